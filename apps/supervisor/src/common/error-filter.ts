/**
 * The one exception filter: every error leaves the API as `{error:{code,message,details}}`
 * with the status its code maps to (errors.ts httpStatusOf). Nest's own HttpExceptions (an
 * unknown route, a body that does not parse) get SUPERVISOR_* codes.
 */
import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { toErrorBody } from '@edgebox/runtime';
import type { ErrorBody } from '@edgebox/runtime';
import type { FastifyReply } from 'fastify';
import { httpStatusOf } from '../errors.js';

function fromHttpException(e: HttpException): { status: number; body: ErrorBody } {
  const status = e.getStatus();
  const code =
    status === 404 ? 'SUPERVISOR_NOT_FOUND' : status === 401 ? 'SUPERVISOR_UNAUTHORIZED' : status === 403 ? 'SUPERVISOR_FORBIDDEN' : status < 500 ? 'SUPERVISOR_INVALID_ARGUMENT' : 'RUNTIME_INTERNAL';
  return { status, body: { code, message: e.message } };
}

/** Maps any thrown value to the error envelope. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status: number;
    let body: ErrorBody;
    if (exception instanceof HttpException) ({ status, body } = fromHttpException(exception));
    else {
      const fastifyStatus = (exception as { statusCode?: unknown }).statusCode;
      body = toErrorBody(exception);
      // fastify's own errors (FST_ERR_CTP_INVALID_MEDIA_TYPE, a body too large) carry their status
      status = typeof fastifyStatus === 'number' && body.code.startsWith('FST_') ? fastifyStatus : httpStatusOf(body.code);
    }
    if (reply.sent || reply.raw.headersSent) return;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ error: body });
  }
}
