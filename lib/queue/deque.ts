/**
 * A growable FIFO on a circular array (no `Array.shift`). For queues whose bound is enforced by
 * credit rather than by a fixed capacity: the owner never admits more than it has asked for.
 */
export class Deque<T> {
  private slots: (T | undefined)[] = new Array<T | undefined>(8);
  private head = 0;
  private length = 0;

  get size(): number {
    return this.length;
  }

  get isEmpty(): boolean {
    return this.length === 0;
  }

  push(value: T): void {
    if (this.length === this.slots.length) this.grow();
    this.slots[(this.head + this.length) % this.slots.length] = value;
    this.length++;
  }

  /** Removes the head; callers check `isEmpty` first. */
  shift(): T {
    const value = this.slots[this.head] as T;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.length--;
    return value;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.slots[this.head];
  }

  clear(): void {
    this.slots = new Array<T | undefined>(8);
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.slots.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.slots[(this.head + i) % this.slots.length];
    this.slots = next;
    this.head = 0;
  }
}
