/* Access to the SQLite connection behind a store_t, for the code in
 * src/store that keeps its tables on the same connection (accounts,
 * advisor queue, outbox). Nothing outside src/store and the console should
 * need it; the rest of the server goes through store.h. */
#ifndef STEMDESK_STORE_SQLITE_H
#define STEMDESK_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

/* Returns the connection; the store keeps and closes it. Writes made on
 * it join the transaction opened with store_begin(). */
sqlite3 *store_sqlite_handle(store_t *store);

#endif
