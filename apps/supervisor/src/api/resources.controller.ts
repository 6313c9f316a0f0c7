/**
 * Per-app resources, passed through to the app's process (app-catalog.ts reads them from the
 * Service): bonding links and clients, tunnel sessions and streams, netevd interfaces, routes,
 * rules and recent events, p2p peers and streams. 409 when the app is disabled or not running.
 */
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { JsonValue } from '@edgebox/runtime';
import type { Supervisor } from '../hosting/supervisor.js';
import { SUPERVISOR } from './tokens.js';

const LIST = { schema: { type: 'array', items: { type: 'object' } } };

@ApiTags('resources')
@ApiSecurity('apiKey')
@Controller('api/v1')
export class ResourcesController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get('bonding/links')
  @ApiOperation({ summary: 'Bonding: every link of every peer (state, RTT, jitter, loss, rates, bytes)' })
  @ApiOkResponse(LIST)
  bondingLinks(): Promise<JsonValue> {
    return this.supervisor.resource('bonding', 'links');
  }

  @Get('bonding/clients')
  @ApiOperation({ summary: "Bonding: peers (a server's clients; a client's server) without the link table" })
  @ApiOkResponse(LIST)
  bondingClients(): Promise<JsonValue> {
    return this.supervisor.resource('bonding', 'clients');
  }

  @Get('tunnel/sessions')
  @ApiOperation({ summary: 'Tunnel: sessions (peer, suite, state, streams, bytes, rekeys, RTT)' })
  @ApiOkResponse(LIST)
  tunnelSessions(): Promise<JsonValue> {
    return this.supervisor.resource('tunnel', 'sessions');
  }

  @Get('tunnel/streams')
  @ApiOperation({ summary: 'Tunnel: open streams in total, per session and per exposed service' })
  @ApiOkResponse({ schema: { type: 'object' } })
  tunnelStreams(): Promise<JsonValue> {
    return this.supervisor.resource('tunnel', 'streams');
  }

  @Get('netevd/interfaces')
  @ApiOperation({ summary: 'netevd: the interface table (state, addresses, last event)' })
  @ApiOkResponse(LIST)
  netevdInterfaces(): Promise<JsonValue> {
    return this.supervisor.resource('netevd', 'interfaces');
  }

  @Get('netevd/routes')
  @ApiOperation({ summary: "netevd: netevd's policy routes as the kernel has them" })
  @ApiOkResponse(LIST)
  netevdRoutes(): Promise<JsonValue> {
    return this.supervisor.resource('netevd', 'routes');
  }

  @Get('netevd/rules')
  @ApiOperation({ summary: "netevd: netevd's policy rules as the kernel has them" })
  @ApiOkResponse(LIST)
  netevdRules(): Promise<JsonValue> {
    return this.supervisor.resource('netevd', 'rules');
  }

  @Get('netevd/events')
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiOperation({ summary: "netevd: the latest events of its own history (GET /api/v1/events streams all apps' events)" })
  @ApiOkResponse(LIST)
  netevdEvents(@Query('limit') limit?: string): Promise<JsonValue> {
    return this.supervisor.resource('netevd', 'events', limit === undefined ? {} : { limit });
  }

  @Get('p2p/peers')
  @ApiOperation({ summary: 'p2p: peers (state, suite, RTT, addresses, capabilities)' })
  @ApiOkResponse(LIST)
  p2pPeers(): Promise<JsonValue> {
    return this.supervisor.resource('p2p', 'peers');
  }

  @Get('p2p/streams')
  @ApiOperation({ summary: 'p2p: one row per peer and named stream (messages and bytes in and out)' })
  @ApiOkResponse(LIST)
  p2pStreams(): Promise<JsonValue> {
    return this.supervisor.resource('p2p', 'streams');
  }
}
