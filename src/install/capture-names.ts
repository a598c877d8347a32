/**
 * A source profile's names as trigger DDL text: every name a quoted identifier, every value a quoted
 * literal (function bodies cannot take bind parameters), rendered here and nowhere else.
 */
import type { SourceProfile } from '../source/source-profile.js';

/** `"name"`, with embedded quotes doubled: PostgreSQL's quoting of an identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'value'`, with embedded quotes doubled (standard_conforming_strings, on since PostgreSQL 9.1). */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The profile's names rendered once, for capture-triggers-sql.ts's templates. */
export function captureNames(p: SourceProfile) {
  const table = (t: string) => `${ident(p.schema)}.${ident(t)}`;
  const ct = p.tagLinks.contentType;
  return {
    messages: table(p.messages.table),
    sessions: table(p.sessions.table),
    links: table(p.tagLinks.table),
    tags: table(p.tags.table),
    experiments: table(p.experiments.table),
    m: {
      id: ident(p.messages.id),
      chatId: ident(p.messages.chatId),
      type: ident(p.messages.type),
      createdAt: ident(p.messages.createdAt),
    },
    s: {
      id: ident(p.sessions.id),
      teamId: ident(p.sessions.teamId),
      experimentId: ident(p.sessions.experimentId),
      participantId: ident(p.sessions.participantId),
      chatId: ident(p.sessions.chatId),
      platform: ident(p.sessions.platform),
      createdAt: ident(p.sessions.createdAt),
      versionsCache: ident(p.sessions.versionsCache),
    },
    l: { tagId: ident(p.tagLinks.tagId), messageId: ident(p.tagLinks.messageId) },
    t: { id: ident(p.tags.id), name: ident(p.tags.name), category: ident(p.tags.category) },
    e: {
      id: ident(p.experiments.id),
      teamId: ident(p.experiments.teamId),
      versionOf: p.experiments.versionOf === undefined ? null : ident(p.experiments.versionOf),
    },
    /** `and <alias>.content_type = (the chat message's id)` for a generic link table, else ''. */
    linkIsMessage: (alias: string) => {
      if (!ct) return '';
      const match = Object.entries(ct.match)
        .map(([column, value]) => `${ident(column)} = ${literal(value)}`)
        .join(' AND ');
      return ` AND ${alias}.${ident(ct.column)} = (SELECT ${ident(ct.id)} FROM ${table(ct.table)} WHERE ${match})`;
    },
  };
}

export type CaptureNames = ReturnType<typeof captureNames>;
