// A copy of some received bytes that is kept for a while (a decoder's pending part, an interned
// key). A view would keep the whole read chunk it points into alive, and Buffer.from would
// put small copies in Node's shared 8 KB pool, where one long-lived copy holds the slab and
// everything else allocated in it: memory of its own holds just these bytes.
export function ownCopy(view: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(view.length);
  copy.set(view);
  return copy;
}
