// IndexedDB's callbacks as promises, for the package's two browser stores (the session and the
// outbox), each a database of one object store.

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Settles when the transaction has committed (or failed, or been aborted). */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Opens (creating at first use) database `name` with its one object store `store`. */
export async function openSingleStoreDb(factory: IDBFactory, name: string, store: string): Promise<IDBDatabase> {
  const open = factory.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(store);
  const db = await request(open);
  // Let a future version of the app upgrade the database.
  db.onversionchange = () => db.close();
  return db;
}
