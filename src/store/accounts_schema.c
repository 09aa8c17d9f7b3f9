/* Schema of the console, applied as one migration: accounts, login
 * sessions, audit log, advisor queue, internal notes, callback requests
 * and the partner outbox. Rows tied to a conversation are deleted with it
 * (ON DELETE CASCADE), so erasure and the retention purge reach contact
 * details and notes too. */
#include "store/accounts.h"

const char store_console_schema_sql[] =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('advisor', 'editor', 'admin')),"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"

    /* token_hash: BLAKE2b-256 of the token, hex. */
    "CREATE TABLE console_sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  account_id INTEGER NOT NULL"
    "    REFERENCES accounts(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"

    /* Ids and the action only, never message text. The account id has no
     * foreign key so that entries outlive a removed account, and the
     * conversation is its public id so that they outlive its purge. */
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  conversation TEXT);"

    /* One row per escalated conversation. answered_at is the first reply
     * of the advisor who holds it; timeout_sent is set once the visitor
     * has been told that nobody answered in time. */
    "CREATE TABLE handoff_queue ("
    "  conversation_id INTEGER PRIMARY KEY"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT,"
    "  slots TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL CHECK (state IN ('waiting', 'taken', 'closed')),"
    "  advisor_id INTEGER,"
    "  queued_at INTEGER NOT NULL,"
    "  taken_at INTEGER,"
    "  answered_at INTEGER,"
    "  timeout_sent INTEGER NOT NULL DEFAULT 0,"
    "  closed_at INTEGER,"
    "  outcome TEXT);"

    "CREATE TABLE handoff_notes ("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  account_id INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX handoff_notes_conversation"
    "  ON handoff_notes(conversation_id);"

    /* Contact details live only here. */
    "CREATE TABLE callbacks ("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  email TEXT,"
    "  phone TEXT,"
    "  slots TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER,"
    "  done_by INTEGER);"
    "CREATE INDEX callbacks_conversation ON callbacks(conversation_id);"

    /* request_id is sent as the Idempotency-Key header, so that a partner
     * can drop a repeat sent after a crash between its answer and our
     * commit. */
    "CREATE TABLE partner_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  request_id TEXT NOT NULL UNIQUE,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  partner TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'delivered', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at_ms INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  delivered_at INTEGER);"
    "CREATE INDEX partner_outbox_due ON partner_outbox(state, next_at_ms);"
    "CREATE INDEX partner_outbox_conversation"
    "  ON partner_outbox(conversation_id);";
