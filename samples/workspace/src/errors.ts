/** Errors that map to HTTP responses, and the middleware that turns any thrown error into JSON. */
import type { ErrorRequestHandler } from 'express';
import type { Issue } from './validation';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class NotFoundError extends HttpError {
  constructor(what: string, id: string) {
    super(404, 'not_found', `${what} ${id} does not exist`);
  }
}

export class ConflictError extends HttpError {
  constructor(code: string, message: string, details?: unknown) {
    super(409, code, message, details);
  }
}

export class ValidationError extends HttpError {
  constructor(issues: Issue[]) {
    super(422, 'invalid_request', issues.map((i) => `${i.path || 'body'}: ${i.message}`).join('; '), issues);
  }
}

export class UnauthorizedError extends HttpError {
  constructor() {
    super(401, 'unauthorized', 'this route needs a valid x-admin-token header');
  }
}

/** Known errors keep their status; anything else is logged and becomes a 500 that leaks no internals. */
export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    if (err instanceof SyntaxError && 'body' in err) {
      res.status(400).json({ error: { code: 'bad_json', message: 'request body is not valid JSON' } });
      return;
    }
    log(`unhandled error on ${req.method} ${req.originalUrl}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ error: { code: 'internal', message: 'something went wrong; the error was logged' } });
  };
}
