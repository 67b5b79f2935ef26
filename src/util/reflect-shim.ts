// @peculiar/x509 resolves its algorithm providers through tsyringe, which refuses to load unless the
// Reflect metadata API exists (normally supplied by the `reflect-metadata` package, which is not installed
// and may not be added). tsyringe only calls getMetadata/getOwnMetadata/defineMetadata (and tslib's
// __metadata may call Reflect.metadata), so this minimal, side-effect-only module provides exactly those.
// It must be imported before '@peculiar/x509' (ES modules evaluate imports in order). It never replaces
// a real polyfill that is already present.

type MetaMap = Map<unknown, unknown>;
const store = new WeakMap<object, Map<string | symbol | undefined, MetaMap>>();

function bucket(target: object, prop: string | symbol | undefined, create: boolean): MetaMap | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (!m && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

function getOwnMetadata(key: unknown, target: object, prop?: string | symbol): unknown {
  return bucket(target, prop, false)?.get(key);
}

function getMetadata(key: unknown, target: object, prop?: string | symbol): unknown {
  for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
    const m = bucket(t, prop, false);
    if (m?.has(key)) return m.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: object, prop?: string | symbol): void {
  bucket(target, prop, true)!.set(key, value);
}

function metadata(key: unknown, value: unknown) {
  return (target: object, prop?: string | symbol): void => defineMetadata(key, value, target, prop);
}

const r = Reflect as unknown as Record<string, unknown>;
if (typeof r.getMetadata !== 'function') {
  Object.assign(r, { getMetadata, getOwnMetadata, defineMetadata, metadata });
}

export {};
