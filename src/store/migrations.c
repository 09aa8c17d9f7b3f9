/* The schema, as an ordered list of migrations. A migration, once
 * released, never changes: a later change to the schema is a new entry at
 * the end of the table. */
#include "store/accounts.h"
#include "store/store_internal.h"

/* Conversations, their messages, visitor tokens, engine effects and the
 * questions the bot could not answer. Everything tied to a conversation
 * is deleted with it (ON DELETE CASCADE), which erase and purge rely on. */
static const char migration_1[] =
    "CREATE TABLE conversations ("
    "  id INTEGER PRIMARY KEY,"
    "  public_id TEXT NOT NULL UNIQUE,"
    "  mode TEXT NOT NULL DEFAULT 'bot',"
    "  state TEXT,"
    "  last_seq INTEGER NOT NULL DEFAULT 0,"
    "  waiting_reason TEXT,"
    "  waiting_since INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX conversations_updated ON conversations(updated_at);"
    "CREATE TABLE messages ("
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  client_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX messages_client_id"
    "  ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;"
    "CREATE TABLE tokens ("
    "  hash BLOB PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX tokens_conversation ON tokens(conversation_id);"
    "CREATE TABLE effects ("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  type TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX effects_conversation ON effects(conversation_id, type);"
    "CREATE TABLE unanswered ("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL"
    "    REFERENCES conversations(id) ON DELETE CASCADE,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX unanswered_created ON unanswered(created_at);";

/* The name that visitors and advisors see. NULL means the login name,
 * which is also what every account made before this migration shows. */
static const char migration_3[] =
    "ALTER TABLE accounts ADD COLUMN display_name TEXT;";

/* The account name at the time of each audit entry, so that an entry
 * keeps its name after the account is removed. Entries made before this
 * migration have none. */
static const char migration_4[] = "ALTER TABLE audit_log ADD COLUMN name TEXT;";

const store_migration_t store_migrations[] = {
    {1, "conversations, messages, tokens, effects, unanswered questions",
     migration_1},
    {2, "accounts, sessions, audit, advisor queue, callbacks, partner outbox",
     store_console_schema_sql},
    {3, "display names of accounts", migration_3},
    {4, "account names in the audit log", migration_4},
};

const size_t store_migration_count =
    sizeof store_migrations / sizeof store_migrations[0];
