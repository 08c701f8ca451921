/** Route helpers: parse a body against a schema, and pass async handlers' errors to Express. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ValidationError } from '../errors';
import { parse, type Schema } from '../validation';

export function body<T>(schema: Schema<T>, req: Request): T {
  const result = parse(schema, req.body);
  if (!result.ok) throw new ValidationError(result.issues);
  return result.value;
}

/** Express 4 does not catch rejected promises; this does, so every handler can simply throw. */
export function handle(fn: (req: Request, res: Response) => unknown): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      Promise.resolve(fn(req, res)).catch(next);
    } catch (error) {
      next(error);
    }
  };
}

/** A query parameter as a single string; repeated parameters (`?status=a&status=b`) are a client error. */
export function queryParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError([{ path: `query.${name}`, message: 'must be given once' }]);
  return value;
}
