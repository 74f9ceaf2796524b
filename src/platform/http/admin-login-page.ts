const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escape text for element content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface LoginPageView {
  /** the form's target */
  action: string;
  /** where to go after logging in (already checked to be an admin page) */
  next?: string | undefined;
  email?: string | undefined;
  error?: string | undefined;
}

/** The admin login page: a plain form (no script), so it works under the admin CSP and without JavaScript. */
export function renderLoginPage(view: LoginPageView): string {
  const error = view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '';
  const next = view.next ? `<input type="hidden" name="next" value="${escapeHtml(view.next)}">` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Boxoffice admin — log in</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f5f7; display: grid; place-items: center; min-height: 100vh; margin: 0; }
  form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: 20rem; }
  h1 { font-size: 1.2rem; margin-top: 0; }
  label { display: block; margin: .8rem 0 .3rem; }
  input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; }
  button { margin-top: 1.2rem; width: 100%; padding: .6rem; }
  .error { color: #b00020; }
</style>
</head>
<body>
<form method="post" action="${escapeHtml(view.action)}">
  <h1>Boxoffice admin</h1>
  ${error}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(view.email ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  ${next}
  <button type="submit">Log in</button>
</form>
</body>
</html>
`;
}
