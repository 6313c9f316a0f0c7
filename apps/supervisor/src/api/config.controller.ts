/**
 * `/api/v1/config`: the running config (secrets redacted), validate a document, apply one.
 * Bodies are JSON or YAML (`content-type: application/yaml`). Apply validates every section
 * with its app's schema first: an invalid document is refused with 400 and every issue, and
 * nothing changes (no file written, no app touched).
 */
import { Body, Controller, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { JsonValue } from '@edgebox/runtime';
import type { ApplyResult, Supervisor } from '../hosting/supervisor.js';
import { APPLY_RESULT_SCHEMA, CONFIG_SCHEMA } from './schemas.js';
import { SUPERVISOR } from './tokens.js';

@ApiTags('config')
@ApiSecurity('apiKey')
@Controller('api/v1/config')
export class ConfigController {
  constructor(@Inject(SUPERVISOR) private readonly supervisor: Supervisor) {}

  @Get()
  @ApiOperation({ summary: 'The running appliance config, secrets redacted' })
  @ApiOkResponse({ schema: CONFIG_SCHEMA })
  get(): JsonValue {
    return this.supervisor.redactedConfig();
  }

  @Post('validate')
  @HttpCode(200)
  @ApiBody({ schema: CONFIG_SCHEMA })
  @ApiOperation({ summary: "Validate a whole appliance config (each section by its app's schema); 400 with every issue" })
  @ApiOkResponse({ schema: { type: 'object', properties: { valid: { type: 'boolean' }, apps: { type: 'array', items: { type: 'string' } } } } })
  async validate(@Body() body: unknown): Promise<{ valid: true; apps: string[] }> {
    const config = await this.supervisor.validate(body ?? {});
    return { valid: true, apps: Object.keys(config.apps) };
  }

  @Put()
  @HttpCode(200)
  @ApiBody({ schema: CONFIG_SCHEMA })
  @ApiOperation({ summary: 'Apply a whole appliance config: validate, write the file, reload/restart/start/stop what changed' })
  @ApiOkResponse({ schema: APPLY_RESULT_SCHEMA })
  apply(@Body() body: unknown): Promise<ApplyResult> {
    return this.supervisor.apply(body ?? {});
  }
}
