/**
 * A small schema checker for request bodies. Every schema reports all problems at once, each with the path
 * of the offending field, so a client can fix a bad request in one round trip.
 */

export interface Issue {
  /** Dotted path of the field, e.g. "lines.2.quantity"; empty for the whole body. */
  path: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export interface Schema<T> {
  check(input: unknown, path: string, issues: Issue[]): T | undefined;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const at = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

export function parse<T>(schema: Schema<T>, input: unknown): Result<T> {
  const issues: Issue[] = [];
  const value = schema.check(input, '', issues);
  return issues.length === 0 ? { ok: true, value: value as T } : { ok: false, issues };
}

export interface StringOptions {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Shown instead of the pattern when it does not match. */
  patternName?: string;
  trim?: boolean;
}

export function string(options: StringOptions = {}): Schema<string> {
  return {
    check(input, path, issues) {
      if (typeof input !== 'string') {
        issues.push({ path, message: `expected a string, got ${describe(input)}` });
        return undefined;
      }
      const value = options.trim === false ? input : input.trim();
      if (options.min !== undefined && value.length < options.min) {
        issues.push({ path, message: value.length === 0 ? 'must not be empty' : `must be at least ${options.min} characters` });
      } else if (options.max !== undefined && value.length > options.max) {
        issues.push({ path, message: `must be at most ${options.max} characters` });
      } else if (options.pattern && !options.pattern.test(value)) {
        issues.push({ path, message: `must be ${options.patternName ?? `like ${options.pattern}`}` });
      }
      return value;
    },
  };
}

export function integer(options: { min?: number; max?: number } = {}): Schema<number> {
  return {
    check(input, path, issues) {
      if (typeof input !== 'number' || !Number.isInteger(input)) {
        issues.push({ path, message: `expected a whole number, got ${describe(input)}` });
        return undefined;
      }
      if (options.min !== undefined && input < options.min) issues.push({ path, message: `must be at least ${options.min}` });
      if (options.max !== undefined && input > options.max) issues.push({ path, message: `must be at most ${options.max}` });
      return input;
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    check(input, path, issues) {
      if (typeof input === 'boolean') return input;
      issues.push({ path, message: `expected true or false, got ${describe(input)}` });
      return undefined;
    },
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  return {
    check(input, path, issues) {
      if (typeof input === 'string' && (values as readonly string[]).includes(input)) return input as T[number];
      issues.push({ path, message: `must be one of ${values.join(', ')}, got ${describe(input)}` });
      return undefined;
    },
  };
}

export function array<T>(item: Schema<T>, options: { min?: number; max?: number } = {}): Schema<T[]> {
  return {
    check(input, path, issues) {
      if (!Array.isArray(input)) {
        issues.push({ path, message: `expected an array, got ${describe(input)}` });
        return undefined;
      }
      if (options.min !== undefined && input.length < options.min) {
        issues.push({ path, message: `needs at least ${options.min} item${options.min === 1 ? '' : 's'}` });
      }
      if (options.max !== undefined && input.length > options.max) {
        issues.push({ path, message: `takes at most ${options.max} items` });
      }
      return input.map((v, i) => item.check(v, at(path, i), issues) as T);
    },
  };
}

/** Marks a field of an object schema as optional. */
export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export function optional<T>(inner: Schema<T>): Optional<T> {
  return {
    optional: true,
    check(input, path, issues) {
      return input === undefined ? undefined : inner.check(input, path, issues);
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
export type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

/** An object with exactly these fields: unknown fields are reported, since they are usually typos. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    check(input, path, issues) {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        issues.push({ path, message: `expected an object, got ${describe(input)}` });
        return undefined;
      }
      const record = input as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(shape)) {
        if (!(key in record) && !('optional' in schema)) {
          issues.push({ path: at(path, key), message: 'is required' });
          continue;
        }
        const value = schema.check(record[key], at(path, key), issues);
        if (value !== undefined) out[key] = value;
      }
      for (const key of Object.keys(record)) {
        if (!(key in shape)) issues.push({ path: at(path, key), message: 'is not a known field' });
      }
      return out as ObjectOf<S>;
    },
  };
}
