import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Put,
  Inject,
  Query,
  Req,
  Res,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { Request, Response } from 'express';
import { clearSessionCookie, setSessionCookie } from '../auth/session-cookie.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { StaffRole } from '../auth/api-token.entity.js';
import {
  Allow,
  CurrentPrincipal,
  ownSessionOf,
  type Principal,
  Public,
} from '../auth/principal.js';
import { uuidParam } from '../common/uuid-param.js';
import {
  ListSessionsQuery,
  QuestionView,
  SaveAnswerDto,
  SaveNotepadDto,
  SessionSummaryView,
  SessionView,
  StartSessionDto,
  StartedSessionView,
} from './sessions.dto.js';
import { clientOf, ThrottleAlso } from '../throttling/throttle.guard.js';
import { LiveStateService } from './live-state.service.js';
import { SessionRemovalService } from './session-removal.service.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('sessions')
@ApiBearerAuth()
@Controller('api/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly live: LiveStateService,
    private readonly removal: SessionRemovalService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @Public()
  @ThrottleAlso('sessionStarts')
  @ApiOperation({ summary: 'Start a session from an invitation code, or an open exam' })
  @ApiResponse({ status: 201, type: StartedSessionView })
  @ApiResponse({
    status: 429,
    description: 'Too many starts, or open-exam sessions, from this address (Retry-After)',
  })
  @ApiResponse({ status: 503, description: 'Every exam place is taken (Retry-After)' })
  async start(
    @Body() dto: StartSessionDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StartedSessionView> {
    const started = await this.sessions.start(dto, clientOf(request));
    setSessionCookie(request, response, started.sessionToken, this.config.http.cookieSecurity);
    return started;
  }

  @Post('me/leave')
  @Public()
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Forget the session cookie in this browser (the session goes on; the invitation code resumes it)',
  })
  leave(@Req() request: Request, @Res({ passthrough: true }) response: Response): void {
    clearSessionCookie(request, response, this.config.http.cookieSecurity);
  }

  @Get()
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER)
  @ApiOperation({ summary: 'List sessions (staff)' })
  list(@Query() query: ListSessionsQuery): Promise<{ items: SessionSummaryView[]; total: number }> {
    return this.sessions.list(query);
  }

  @Get('me')
  @Allow('candidate')
  @ApiOperation({
    summary: "The caller's own session, with the remaining time computed by the server",
  })
  @ApiResponse({ status: 200, type: SessionView })
  me(@CurrentPrincipal() principal: Principal): Promise<SessionView> {
    return this.sessions.view(ownSessionOf(principal), principal);
  }

  @Get(':id')
  @Allow(StaffRole.ADMIN, StaffRole.TRAINER, 'candidate')
  @ApiOperation({ summary: 'One session: staff see any, a candidate only their own' })
  @ApiResponse({ status: 200, type: SessionView })
  get(
    @Param('id', uuidParam) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SessionView> {
    return this.sessions.view(id, principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @Allow(StaffRole.ADMIN)
  @ApiOperation({
    summary:
      'Remove an ended session with its report, history and terminal recording (409 while it runs or is being graded)',
  })
  async remove(@Param('id', uuidParam) id: string): Promise<void> {
    await this.removal.remove(id);
  }

  @Get('me/kubeconfig')
  @Allow('candidate')
  @Header('Content-Type', 'application/yaml; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="kubeconfig"')
  @ApiOperation({
    summary:
      'My kubeconfig: one context per cluster alias, tokens valid until the deadline (while active only)',
  })
  kubeconfig(@CurrentPrincipal() principal: Principal): Promise<string> {
    return this.sessions.downloadKubeconfig(ownSessionOf(principal));
  }

  @Put('me/answers/:questionId')
  @Allow('candidate')
  @ApiOperation({ summary: 'Save the answer text, flag and note of one task' })
  @ApiResponse({ status: 200, type: QuestionView })
  saveAnswer(
    @Param('questionId') questionId: string,
    @Body() dto: SaveAnswerDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<QuestionView> {
    return this.sessions.saveAnswer(ownSessionOf(principal), questionId, dto);
  }

  @Sse('me/events')
  @Allow('candidate')
  @Header('X-Accel-Buffering', 'no')
  @ApiOperation({
    summary:
      'Server-Sent Events: `state` with the session state, deadline and setup progress, at connect and on every change; `ping` every 15 s',
  })
  events(@CurrentPrincipal() principal: Principal): Observable<MessageEvent> {
    return this.live.follow(ownSessionOf(principal));
  }

  @Post('me/begin')
  @HttpCode(200)
  @Allow('candidate')
  @ApiOperation({
    summary: 'Start the clock: the environment is ready and the candidate has read the briefing',
  })
  @ApiResponse({ status: 200, type: SessionView })
  begin(@CurrentPrincipal() principal: Principal): Promise<SessionView> {
    return this.sessions.begin(ownSessionOf(principal));
  }

  @Put('me/notepad')
  @Allow('candidate')
  @ApiOperation({ summary: "Save the candidate's notepad (while the exam runs)" })
  saveNotepad(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: SaveNotepadDto,
  ): Promise<{ notepad: string; savedAt: string }> {
    return this.sessions.saveNotepad(ownSessionOf(principal), dto.notepad);
  }

  @Post('me/submit')
  @HttpCode(200)
  @Allow('candidate')
  @ApiOperation({ summary: 'End the exam now and queue grading' })
  @ApiResponse({ status: 200, type: SessionView })
  submit(@CurrentPrincipal() principal: Principal): Promise<SessionView> {
    return this.sessions.submit(ownSessionOf(principal));
  }
}
