import type { Db } from '../../../platform/db.ts';

export interface Template {
  eventType: string;
  channel: string;
  /** the notification type it produces, e.g. booking_confirmed */
  name: string;
  subject: string;
  body: string;
  enabled: boolean;
  version: number;
}

interface Row {
  event_type: string;
  channel: string;
  name: string;
  subject_template: string;
  body_template: string;
  enabled: boolean;
  version: number;
}

const toTemplate = (r: Row): Template => ({
  eventType: r.event_type,
  channel: r.channel,
  name: r.name,
  subject: r.subject_template,
  body: r.body_template,
  enabled: r.enabled,
  version: r.version,
});

/** notifications.templates: one per (event type, channel); the defaults come with the migration. */
export function createTemplateStore(schema = 'notifications') {
  const table = (db: Db) => db.withSchema(schema).table<Row>('templates');
  return {
    async find(db: Db, eventType: string, channel = 'email'): Promise<Template | undefined> {
      const row = (await table(db).where({ event_type: eventType, channel }).first()) as Row | undefined;
      return row ? toTemplate(row) : undefined;
    },
    async list(db: Db): Promise<Template[]> {
      return ((await table(db).orderBy('event_type')) as Row[]).map(toTemplate);
    },
    /** replace a template's texts (bumps its version) */
    async update(db: Db, eventType: string, texts: { subject: string; body: string }, channel = 'email'): Promise<void> {
      await table(db)
        .where({ event_type: eventType, channel })
        .update({ subject_template: texts.subject, body_template: texts.body, version: db.raw('version + 1'), updated_at: new Date() } as never);
    },
  };
}

export type TemplateStore = ReturnType<typeof createTemplateStore>;
