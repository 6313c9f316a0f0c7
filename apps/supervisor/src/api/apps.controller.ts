/** `/api/v1/apps`: list, one app's status (with its Service status), start, stop, restart, reload. */
import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { JsonValue } from '@edgebox/runtime';
import { APP_NAMES } from '../constants.js';
import type { AppStatus } from '../hosting/app-process.js';
import type { ApplyResult, Supervisor } from '../hosting/supervisor.js';
import { APP_STATUS_SCHEMA, APPLY_RESULT_SCHEMA } from './schemas.js';
import { SUPERVISOR } from './tokens.js';

const NAME_PARAM = { name: 'name', enum: [...APP_NAMES], description: 'the app' };

@ApiTags('apps')
@ApiSecurity('apiKey')
@Controller('api/v1/apps')
export class AppsController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get()
  @ApiOperation({ summary: 'Every app: state, pid, uptime, restarts, last error, why disabled' })
  @ApiOkResponse({ schema: { type: 'array', items: APP_STATUS_SCHEMA } })
  list(): AppStatus[] {
    return this.supervisor.apps();
  }

  @Get(':name')
  @ApiParam(NAME_PARAM)
  @ApiOperation({ summary: "One app's status, with its Service's own status() when running" })
  @ApiOkResponse({ schema: { ...APP_STATUS_SCHEMA, properties: { ...APP_STATUS_SCHEMA.properties, service: { type: 'object', nullable: true } } } })
  get(@Param('name') name: string): Promise<JsonValue> {
    return this.supervisor.appStatus(name);
  }

  @Post(':name/start')
  @HttpCode(200)
  @ApiParam(NAME_PARAM)
  @ApiOperation({ summary: 'Start the app (also after a crash-loop)' })
  @ApiOkResponse({ schema: APP_STATUS_SCHEMA })
  start(@Param('name') name: string): Promise<AppStatus> {
    return this.supervisor.startApp(name);
  }

  @Post(':name/stop')
  @HttpCode(200)
  @ApiParam(NAME_PARAM)
  @ApiOperation({ summary: 'Stop the app gracefully (within supervisor.stopDeadlineMs)' })
  @ApiOkResponse({ schema: APP_STATUS_SCHEMA })
  stop(@Param('name') name: string): Promise<AppStatus> {
    return this.supervisor.stopApp(name);
  }

  @Post(':name/restart')
  @HttpCode(200)
  @ApiParam(NAME_PARAM)
  @ApiOperation({ summary: 'Stop and start the app' })
  @ApiOkResponse({ schema: APP_STATUS_SCHEMA })
  restart(@Param('name') name: string): Promise<AppStatus> {
    return this.supervisor.restartApp(name);
  }

  @Post(':name/reload')
  @HttpCode(200)
  @ApiParam(NAME_PARAM)
  @ApiOperation({ summary: "Re-read the config file and reload this app's section (restart when only a restart can apply it)" })
  @ApiOkResponse({ schema: APPLY_RESULT_SCHEMA })
  reload(@Param('name') name: string): Promise<ApplyResult> {
    return this.supervisor.reload(name);
  }
}
