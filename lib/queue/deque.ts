/**
 * A growable FIFO on a circular array (no `Array.shift`) whose length is a power of two, so an
 * index wraps with a mask instead of a division. For queues whose bound is enforced by
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
    this.slots[(this.head + this.length) & (this.slots.length - 1)] = value;
    this.length++;
  }

  /** Removes the head; callers check `isEmpty` first. */
  shift(): T {
    const value = this.slots[this.head] as T;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
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
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.length; i++) next[i] = this.slots[(this.head + i) & mask];
    this.slots = next;
    this.head = 0;
  }
}
