import type { Principal } from '../../../platform/auth/principal.ts';
import type { Db, Knex } from '../../../platform/db.ts';
import type { Envelope } from '../../../platform/events/envelope.ts';
import type { Logger } from '../../../platform/logger.ts';
import { TemplateError } from './errors.ts';
import { notificationId } from './notification-content.ts';
import type { NotificationStore } from './notification-store.ts';
import { render, type TemplateVars } from './template-renderer.ts';
import type { TemplateStore } from './template-store.ts';
import type { NotificationRecord, NotificationStatus, Page } from './types.ts';
import type { UserPreferences, UserPreferencesStore } from './user-preferences.ts';
import { toNotificationView, type NotificationView } from './views.ts';

export interface NotificationServiceDeps {
  db: Knex;
  store: NotificationStore;
  templates: TemplateStore;
  prefs: UserPreferencesStore;
  /** queue delivery of a pending notification (idempotent per id) */
  enqueue: (id: string) => Promise<void>;
  logger: Logger;
}

export interface NotifyRequest {
  userId: string;
  /** distinguishes several notifications of one event (a booking id); the user id otherwise */
  subject?: string;
  vars: TemplateVars;
}

export const PARKED_REASON = 'waiting for the email address of the user (no user.created or booking.created seen yet)';
const OPTED_OUT_REASON = 'the user opted out of these emails';

/**
 * Turns events into stored notifications: render the event type's template, decide where it goes (the
 * user's address from user_preferences; parked while none is known; skipped when opted out), insert it
 * under its derived id, and queue delivery once the transaction commits.
 */
export class NotificationService {
  private readonly d: NotificationServiceDeps;

  constructor(deps: NotificationServiceDeps) {
    this.d = deps;
  }

  /** Create the notification `event` produces for one user, in the consumer's transaction. */
  async notify(trx: Knex.Transaction, event: Envelope, req: NotifyRequest): Promise<NotificationRecord | undefined> {
    const template = await this.d.templates.find(trx, event.event_type);
    if (!template?.enabled) return undefined;
    const prefs = await this.d.prefs.get(trx, req.userId);
    const vars: TemplateVars = { name: prefs?.fullName || 'there', email: prefs?.email ?? '', ...req.vars };
    let subject: string;
    let message: string;
    let status: NotificationStatus;
    let reason: string | null = null;
    try {
      subject = render(template.subject, vars, { singleLine: true });
      message = render(template.body, vars);
      ({ status, reason } = this.route(prefs, template.name));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.d.logger.error({ eventType: event.event_type, err: err.message }, 'notification template cannot be rendered');
      [subject, message, status, reason] = [template.name, '(not rendered)', 'failed', `template error: ${err.message}`.slice(0, 500)];
    }
    const id = notificationId(event.event_id, template.name, req.subject ?? req.userId);
    const { record, created } = await this.d.store.insert(trx, {
      id,
      userId: req.userId,
      type: template.name,
      channel: template.channel,
      recipient: status === 'parked' ? null : (prefs?.email ?? null),
      subject,
      message,
      status,
      statusReason: reason,
      eventId: event.event_id,
      eventType: event.event_type,
    });
    if (created && status === 'pending') this.afterCommit(trx, id);
    return record;
  }

  /** The user's address became known (or changed): parked notifications go out now (or are skipped). */
  async releaseParked(trx: Knex.Transaction, prefs: UserPreferences): Promise<number> {
    if (!prefs.email) return 0;
    let released = 0;
    for (const n of await this.d.store.listParkedForUser(trx, prefs.userId)) {
      const { status, reason } = this.route(prefs, n.type);
      const moved = await this.d.store.transition(trx, n.id, ['parked'], { status, statusReason: reason, recipient: prefs.email });
      if (moved?.status === 'pending') {
        this.afterCommit(trx, n.id);
        released++;
      }
    }
    return released;
  }

  /** The user is gone: nothing parked for them will ever be sent. */
  async dropParked(trx: Knex.Transaction, userId: string, reason: string): Promise<void> {
    for (const n of await this.d.store.listParkedForUser(trx, userId)) {
      await this.d.store.transition(trx, n.id, ['parked'], { status: 'skipped', statusReason: reason });
    }
  }

  /** GET /api/v1/notifications: the caller's own, newest first. */
  async listFor(principal: Principal, page: Page): Promise<{ items: NotificationView[]; total: number; limit: number; offset: number }> {
    const { items, total } = await this.d.store.listForUser(this.d.db, principal.userId, page);
    return { items: items.map(toNotificationView), total, ...page };
  }

  async get(db: Db, id: string): Promise<NotificationRecord | undefined> {
    return this.d.store.findById(db, id);
  }

  private route(prefs: UserPreferences | undefined, type: string): { status: NotificationStatus; reason: string | null } {
    if (!prefs?.email) return { status: 'parked', reason: PARKED_REASON };
    if (!prefs.emailEnabled || prefs.optOuts.includes(type)) return { status: 'skipped', reason: OPTED_OUT_REASON };
    return { status: 'pending', reason: null };
  }

  /** Queue delivery once the row is committed (and visible to the worker); the sweeper covers a failure. */
  private afterCommit(trx: Knex.Transaction, id: string): void {
    trx.executionPromise.then(
      () => this.d.enqueue(id).catch((err: unknown) => this.d.logger.warn({ err, notificationId: id }, 'could not queue delivery; the sweeper will')),
      () => undefined,
    );
  }
}
