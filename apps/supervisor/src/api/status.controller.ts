/** `GET /api/v1/status` (the appliance) and `POST /api/v1/reload` (re-read the config, reload every app). */
import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { ApplianceStatus, ApplyResult, Supervisor } from '../hosting/supervisor.js';
import { SUPERVISOR } from './tokens.js';
import { APPLY_RESULT_SCHEMA, APPLIANCE_STATUS_SCHEMA } from './schemas.js';

@ApiTags('appliance')
@ApiSecurity('apiKey')
@Controller('api/v1')
export class StatusController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get('status')
  @ApiOperation({ summary: 'Appliance status: every app with state, pid, uptime, restarts, last error' })
  @ApiOkResponse({ schema: APPLIANCE_STATUS_SCHEMA })
  status(): ApplianceStatus {
    return this.supervisor.status();
  }

  @Post('reload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-read the config file and reload every app (as SIGHUP does)' })
  @ApiOkResponse({ schema: APPLY_RESULT_SCHEMA })
  reload(): Promise<ApplyResult> {
    return this.supervisor.reload();
  }
}
