/**
 * `fn` over every item, at most `limit` at a time, results in the items'
 * order. For fan-outs of API calls (a list per namespace and kind) where one
 * after another adds up to seconds and all at once would open a socket each.
 * The first rejection rejects the whole, as Promise.all does, and no further
 * item is started; calls already started run to their end.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
