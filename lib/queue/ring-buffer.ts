/**
 * A fixed-capacity FIFO on a circular array: O(1) push and shift at both ends, no `Array.shift`
 * (which is what makes RxJS's mergeMap queue quadratic), and no growth past its capacity.
 * Slots are cleared on removal so the buffer never keeps a value alive after handing it out.
 */
export class RingBuffer<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.length;
  }

  get isFull(): boolean {
    return this.length === this.capacity;
  }

  get isEmpty(): boolean {
    return this.length === 0;
  }

  /** Appends at the tail; returns false (and stores nothing) when full. */
  push(value: T): boolean {
    if (this.length === this.capacity) return false;
    this.slots[(this.head + this.length) % this.capacity] = value;
    this.length++;
    return true;
  }

  /** Removes and returns the head. Callers check `isEmpty` first: undefined is a legal value. */
  shift(): T {
    const value = this.slots[this.head] as T;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return value;
  }

  /** The head without removing it. */
  peek(): T {
    return this.slots[this.head] as T;
  }

  /** Empties the buffer and returns how many values it held. */
  clear(): number {
    const dropped = this.length;
    for (let i = 0; i < this.length; i++) this.slots[(this.head + i) % this.capacity] = undefined;
    this.head = 0;
    this.length = 0;
    return dropped;
  }

  /** Copies the contents, head first (for tests and diagnostics, not hot paths). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.slots[(this.head + i) % this.capacity] as T);
    return out;
  }
}
