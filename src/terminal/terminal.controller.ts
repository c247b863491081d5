import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createReadStream } from 'node:fs';
import { StaffRole } from '../auth/api-token.entity.js';
import { Allow, CurrentPrincipal, ownSessionOf, type Principal } from '../auth/principal.js';
import { uuidParam } from '../common/uuid-param.js';
import { RecordingsService } from './recordings.service.js';
import { TerminalService } from './terminal.service.js';

/**
 * The terminal's plain HTTP side: whether it is available (the WebSocket
 * itself is an upgrade of `GET /api/sessions/me/terminal`) and the recordings.
 */
@ApiTags('terminal')
@ApiBearerAuth()
@Controller('api/sessions')
export class TerminalController {
  constructor(
    private readonly terminals: TerminalService,
    private readonly recordings: RecordingsService,
  ) {}

  @Get('me/terminal')
  @Allow('candidate')
  @ApiOperation({
    summary:
      'Whether the browser terminal is available (connect with a WebSocket upgrade of this URL)',
  })
  terminal(): { available: boolean; reason?: string } {
    return this.terminals.status();
  }

  @Get('me/terminal.cast')
  @Allow('candidate')
  @ApiOperation({ summary: 'My terminal recording (asciicast v2), once the exam has ended' })
  async myRecording(@CurrentPrincipal() principal: Principal): Promise<StreamableFile> {
    return this.stream(await this.recordings.candidatePath(ownSessionOf(principal)));
  }

  @Get(':id/terminal.cast')
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER)
  @ApiOperation({ summary: "A session's terminal recording (asciicast v2)" })
  async recording(@Param('id', uuidParam) id: string): Promise<StreamableFile> {
    return this.stream(await this.recordings.staffPath(id));
  }

  private stream(path: string): StreamableFile {
    return new StreamableFile(createReadStream(path), {
      type: 'application/x-asciicast',
      disposition: `attachment; filename="${path.slice(path.lastIndexOf('/') + 1)}"`,
    });
  }
}
