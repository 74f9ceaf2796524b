import { startChildApp } from '/work/main/test/helpers/child-app.ts';
import { createTestDatabase } from '/work/main/test/helpers/db.ts';
const db = await createTestDatabase();
const app = await startChildApp({ DATABASE_URL: db.url, WEB_CONCURRENCY: '2' });
await new Promise(r=>setTimeout(r,1500));
const r = await fetch(app.url + '/metrics'); console.log(r.status, (await r.text()).slice(0,300));
console.log(JSON.stringify(app.lines.filter(l => l.level==='error' || l.level==='fatal').slice(0,3)).slice(0,2000));
await app.stop(); await db.drop(); process.exit(0);
