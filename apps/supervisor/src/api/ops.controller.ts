/**
 * `/metrics` (every running app's prom-client registry merged with AggregatorRegistry, plus
 * the supervisor's own), `/health` (liveness: 200 unless failing; an app that is down only
 * degrades it) and `/ready` (200 when every enabled app runs and is ready), with a named check
 * per app.
 */
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Supervisor } from '../hosting/supervisor.js';
import { HEALTH_SCHEMA } from './schemas.js';
import { SUPERVISOR } from './tokens.js';

@ApiTags('ops')
@Controller()
export class OpsController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get('metrics')
  @ApiSecurity('apiKey')
  @ApiOperation({ summary: 'Prometheus metrics of every running app and of the supervisor' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format' })
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, text } = await this.supervisor.metrics();
    await reply.header('content-type', contentType).send(text);
  }

  @Get('health')
  @ApiOperation({ summary: 'Liveness with a check per app (open, no key needed)' })
  @ApiOkResponse({ schema: HEALTH_SCHEMA })
  @ApiResponse({ status: 503, description: 'failing', schema: HEALTH_SCHEMA })
  async health(@Res() reply: FastifyReply): Promise<void> {
    const { live } = await this.supervisor.health();
    await reply.status(live.status === 'failing' ? 503 : 200).send(live);
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness with a check per app (open, no key needed)' })
  @ApiOkResponse({ schema: HEALTH_SCHEMA })
  @ApiResponse({ status: 503, description: 'not ready', schema: HEALTH_SCHEMA })
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const { ready } = await this.supervisor.health();
    await reply.status(ready.ready ? 200 : 503).send(ready);
  }
}
