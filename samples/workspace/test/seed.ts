/** A fresh store with the fixture catalogue for each test, and a clock the test controls. */
import seed from './fixtures/products.json';
import { MemoryStore, type Seed } from '../src/store/memoryStore';

export function freshStore(): MemoryStore {
  return new MemoryStore(structuredClone(seed) as Seed);
}

export class TestClock {
  constructor(private current = new Date('2024-05-02T08:30:00Z')) {}

  now = (): Date => new Date(this.current);

  advanceHours(hours: number): void {
    this.current = new Date(this.current.getTime() + hours * 3_600_000);
  }
}
