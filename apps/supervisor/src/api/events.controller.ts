/**
 * `GET /api/v1/events`: Server-Sent Events merging every app's events and the supervisor's own
 * (`app.state`). Filters: `app` (or `source`), `kind`, `subject`, `interface` (globs,
 * comma-separated), `severity` (minimum), `where` (a condition). Resume: the `Last-Event-ID`
 * header (or `?lastEventId=`) replays what the history still holds after it.
 */
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { filterFromQuery, lastEventIdFrom, serveSse } from '@edgebox/events';
import { toErrorBody } from '@edgebox/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf } from '../errors.js';
import type { Supervisor } from '../hosting/supervisor.js';
import { SUPERVISOR } from './tokens.js';

@ApiTags('events')
@ApiSecurity('apiKey')
@Controller('api/v1/events')
export class EventsController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get()
  @ApiOperation({ summary: 'Server-Sent Events of every app, filtered; Last-Event-ID resumes' })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'app', required: false, description: 'source app globs, comma-separated (bonding,tunnel,netevd,p2p,supervisor)' })
  @ApiQuery({ name: 'kind', required: false, description: 'kind globs, comma-separated (link.*,session.*)' })
  @ApiQuery({ name: 'severity', required: false, description: 'minimum severity (debug, info, warning, error)' })
  @ApiQuery({ name: 'lastEventId', required: false, description: 'resume after this id (as the Last-Event-ID header)' })
  @ApiOkResponse({ description: 'text/event-stream: `id:` cursor, `event:` kind, `data:` the event JSON' })
  stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query() query: Record<string, string | string[]>): void {
    // compiled before any byte is written: a bad filter is still a 400 envelope
    const filter = filterFromQuery(query, { ignore: ['lastEventId'] });
    const lastEventId = lastEventIdFrom(req.headers) ?? (typeof query['lastEventId'] === 'string' ? query['lastEventId'] : undefined);
    reply.hijack();
    const res = reply.raw;
    // serveSse subscribes before writing: a subscriber limit or a closed bus still gets an envelope
    serveSse({ bus: this.supervisor.bus, response: res, filter, ...(lastEventId === undefined ? {} : { lastEventId }), name: 'api' }).catch((err: unknown) => {
      if (!res.headersSent) {
        const body = toErrorBody(err);
        res.writeHead(httpStatusOf(body.code), { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: body }));
      } else res.end();
    });
  }
}
