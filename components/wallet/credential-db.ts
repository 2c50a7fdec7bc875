/**
 * The simulator's credentials in IndexedDB (browser only): one object store, keyed by the
 * attestor's request id, each entry tagged with the wallet address it was issued to. A test
 * wallet: a real one keeps credentials encrypted in the phone's secure storage.
 */
export interface StoredCredential {
  id: string;
  /** The wallet address it was issued to (the simulator's key can change). */
  address: string;
  credential: string;
  issuer: string;
  receivedAt: string;
}

const DB_NAME = "wallet-login-simulator";
const STORE = "credentials";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(STORE, { keyPath: "id" });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error("IndexedDB did not open"));
  });
}

async function run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = act(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
    });
  } finally {
    db.close();
  }
}

export async function listStoredCredentials(address: string): Promise<StoredCredential[]> {
  const all = await run("readonly", (store) => store.getAll() as IDBRequest<StoredCredential[]>);
  return all.filter((item) => item.address === address).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
}

export async function putStoredCredential(item: StoredCredential): Promise<void> {
  await run("readwrite", (store) => store.put(item));
}

export async function deleteStoredCredential(id: string): Promise<void> {
  await run("readwrite", (store) => store.delete(id));
}
