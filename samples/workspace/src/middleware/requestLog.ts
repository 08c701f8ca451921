/** Gives every request an id (or keeps the one a proxy sent) and logs one line when the response is finished. */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../errors';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

const ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestLog(log: (line: string) => void, enabled = true): RequestHandler {
  return (req, res, next) => {
    const incoming = req.header(ID_HEADER);
    req.id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(ID_HEADER, req.id);
    if (!enabled) return next();

    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log(`${req.id} ${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
    next();
  };
}

/** Admin routes compare the token in constant time, so response timing says nothing about how much of it matched. */
export function requireAdmin(adminToken: string): RequestHandler {
  return (req, _res, next) => {
    const given = req.header('x-admin-token') ?? '';
    if (!adminToken || !timingSafeEqualText(given, adminToken)) {
      next(new UnauthorizedError());
      return;
    }
    next();
  };
}

function timingSafeEqualText(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
