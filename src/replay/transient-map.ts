/**
 * A map by string for entries that come and go by the million, each soon after it came: runs in
 * flight, records waiting for their downstream calls. It keeps them in an object's dictionary,
 * not in a Map. Once a Map has lived long enough for its table to reach the old generation, V8
 * links each table it rehashes into to the next (for the Map's iterators), and every old table
 * still holds the values it had: so every value that passes through is kept, and promoted, until
 * the next full collection. In a replay that is every run's plan and result, tens of MB between
 * collections. A dictionary that is rehashed leaves its old table unlinked.
 */
export class TransientMap<V> {
  private readonly entries: Record<string, V> = Object.create(null) as Record<string, V>;
  size = 0;

  get(key: string): V | undefined {
    return this.entries[key];
  }

  has(key: string): boolean {
    return key in this.entries;
  }

  set(key: string, value: V): void {
    if (!(key in this.entries)) this.size++;
    this.entries[key] = value;
  }

  delete(key: string): boolean {
    if (!(key in this.entries)) return false;
    delete this.entries[key];
    this.size--;
    return true;
  }

  /** The values, in the order their keys came (keys that read as array indexes first, as an object has them). */
  values(): V[] {
    return Object.values(this.entries);
  }
}
