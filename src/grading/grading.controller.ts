import { Controller, Get, Header, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { StaffRole } from '../auth/api-token.entity.js';
import { Allow, CurrentPrincipal, ownSessionOf, type Principal } from '../auth/principal.js';
import { uuidParam } from '../common/uuid-param.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RecordingsService } from '../terminal/recordings.service.js';
import { webEntry } from '../web/web-manifest.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { RegradeService } from './regrade.service.js';
import { renderCohortCsv } from './report-csv.js';
import { renderReportHtml } from './report-html.js';
import { ReportService } from './report.service.js';
import type { SessionReport } from './report.types.js';

/** A recording larger than this is offered for download instead of embedded in the page. */
const MAX_EMBEDDED_RECORDING = 8 * 1024 * 1024;

/**
 * Score reports (JSON and HTML), regrading and cohort export. A candidate
 * reads only their own report; anyone else's is "not found".
 */
@ApiTags('reports')
@ApiBearerAuth()
@Controller('api')
export class GradingController {
  constructor(
    private readonly reports: ReportService,
    private readonly regrades: RegradeService,
    private readonly recordings: RecordingsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('sessions/me/report')
  @Allow('candidate')
  @ApiOperation({ summary: 'My score report (once graded)' })
  myReport(@CurrentPrincipal() principal: Principal): Promise<SessionReport> {
    return this.reports.report(ownSessionOf(principal), 'candidate');
  }

  @Get('sessions/me/report.html')
  @Allow('candidate')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'My score report as an HTML page' })
  async myReportHtml(@CurrentPrincipal() principal: Principal): Promise<string> {
    return renderReportHtml(await this.reports.report(ownSessionOf(principal), 'candidate'), {
      showSolutions: true,
    });
  }

  @Get('sessions/:id/report')
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER, 'candidate')
  @ApiOperation({ summary: "A session's score report: staff see any, a candidate their own" })
  report(
    @Param('id', uuidParam) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SessionReport> {
    return this.reports.report(readable(id, principal), audienceOf(principal));
  }

  @Get('sessions/:id/report.html')
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER, 'candidate')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary:
      "A session's score report as an HTML page (staff: with its terminal recording's player)",
  })
  async reportHtml(
    @Param('id', uuidParam) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<string> {
    const report = await this.reports.report(readable(id, principal), audienceOf(principal));
    const recording =
      principal.kind === 'staff'
        ? await this.recordings.forReport(id, MAX_EMBEDDED_RECORDING)
        : undefined;
    return renderReportHtml(report, {
      showSolutions: true,
      recording: recording && {
        ...recording,
        downloadPath: `/api/sessions/${id}/terminal.cast`,
        player: webEntry(this.config.web.root, 'src/replay/replay.ts'),
      },
    });
  }

  @Post('sessions/:id/regrade')
  @HttpCode(202)
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER)
  @ApiOperation({
    summary: 'Grade an ended session again (a new run; its cluster objects must still exist)',
  })
  regrade(@Param('id', uuidParam) id: string): Promise<{ sessionId: string; state: string }> {
    return this.regrades.regrade(id);
  }

  @Get('reports.csv')
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER)
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="cohort.csv"')
  @ApiQuery({ name: 'examId', required: false })
  @ApiOperation({
    summary: 'Every graded session (of one exam) as CSV: scores per domain and task',
  })
  async cohortCsv(@Query('examId') examId?: string): Promise<string> {
    if (examId !== undefined && !/^[a-z0-9-]{1,100}$/.test(examId)) {
      throw new DomainError(ErrorCode.VALIDATION_FAILED, 'examId must be an exam id', {
        problems: [{ path: 'examId', message: 'must be lower-case letters, digits and dashes' }],
      });
    }
    return renderCohortCsv(await this.reports.cohort({ examId }));
  }
}

/** Staff read any session; a candidate asking for another's gets "not found" (no probing). */
function readable(id: string, principal: Principal): string {
  if (principal.kind === 'candidate' && principal.sessionId !== id)
    throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${id}`);
  return id;
}

function audienceOf(principal: Principal): 'candidate' | 'staff' {
  return principal.kind === 'candidate' ? 'candidate' : 'staff';
}
