import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ALL_SESSION_STATES, type SessionState } from './session-state.js';

export class StartSessionDto {
  @ApiPropertyOptional({ description: 'Invitation code from a trainer (cki_...)' })
  // Whenever present (even beside examId), so no other type reaches the service.
  @ValidateIf(
    (dto: StartSessionDto) => dto.examId === undefined || dto.invitationCode !== undefined,
  )
  @IsString()
  @Length(8, 200)
  invitationCode?: string;

  @ApiPropertyOptional({ description: 'An open exam to start without an invitation' })
  @ValidateIf(
    (dto: StartSessionDto) => dto.invitationCode === undefined || dto.examId !== undefined,
  )
  @IsString()
  @Length(1, 100)
  examId?: string;

  @ApiPropertyOptional({ description: 'Required with examId: how reports name the candidate' })
  @ValidateIf((dto: StartSessionDto) => dto.examId !== undefined || dto.candidateName !== undefined)
  @IsString()
  @Length(1, 200)
  candidateName?: string;
}

export class SaveNotepadDto {
  @ApiProperty({ description: 'The whole notepad' })
  @IsString()
  @MaxLength(50_000)
  notepad: string;
}

export class SaveAnswerDto {
  @ApiPropertyOptional({
    description: 'Text answer (for tasks answered in words or values)',
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  answer?: string | null;

  @ApiPropertyOptional({ description: 'Flag the task for review' })
  @IsOptional()
  @IsBoolean()
  flagged?: boolean;

  @ApiPropertyOptional({ description: 'A private note', nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(5_000)
  note?: string | null;
}

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: ALL_SESSION_STATES })
  @IsOptional()
  @IsIn(ALL_SESSION_STATES)
  state?: SessionState;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  examId?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class QuestionView {
  @ApiProperty() position: number;
  @ApiProperty() questionId: string;
  @ApiProperty() title: string;
  @ApiProperty() domain: string;
  @ApiProperty({ description: 'Points' }) weight: number;
  @ApiProperty({ description: 'kubeconfig context to use for this task' }) cluster: string;
  @ApiProperty({ description: 'Markdown' }) task: string;
  @ApiProperty({
    description: 'The task rendered from Markdown on the server (raw HTML off): safe to insert',
  })
  taskHtml: string;
  @ApiProperty({ description: "The domain's name in the curriculum" }) domainName: string;
  @ApiProperty({ description: 'Whether the task is answered with text (an answer box)' })
  answerable: boolean;
  @ApiProperty({
    enum: ['pending', 'applied', 'failed'],
    description: "Progress of this task's setup on the cluster",
  })
  setupStatus: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why the setup failed' }) setupMessage:
    string | null;
  @ApiProperty({ nullable: true, type: String }) answer: string | null;
  @ApiProperty() flagged: boolean;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) answeredAt: string | null;
  @ApiPropertyOptional({ description: 'Only once the session has ended (or for staff)' })
  checks?: { id: string; kind: string; points: number; description: string }[];
  @ApiPropertyOptional({ description: 'Only once the session has ended (or for staff)' })
  solution?: { explanation: string; commands: string[] };
  @ApiPropertyOptional({ description: 'Staff only' })
  variables?: Record<string, unknown>;
}

export class SessionEventView {
  @ApiProperty({ nullable: true, type: String }) from: string | null;
  @ApiProperty() to: string;
  @ApiProperty() reason: string;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class SessionView {
  @ApiProperty() id: string;
  @ApiProperty() examId: string;
  @ApiProperty() examTitle: string;
  @ApiProperty() candidateName: string;
  @ApiProperty({ enum: ALL_SESSION_STATES }) state: SessionState;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty() durationSeconds: number;
  @ApiProperty() passPercent: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'While ready: Begin before this, or the session is abandoned',
  })
  readyUntil: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deadline: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) endedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description:
      "When the candidate's access to the clusters was closed after the end (null while it may still be open)",
  })
  accessRevokedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Computed by the server; null until the timer starts',
  })
  remainingSeconds: number | null;
  @ApiProperty({ format: 'date-time', description: 'Server time of this response' })
  serverTime: string;
  @ApiProperty({ nullable: true, type: String, description: "The candidate's notepad" })
  notepad: string | null;
  @ApiProperty({
    enum: ['shared', 'dedicated'],
    description:
      'shared: namespaces on a shared cluster (kubeconfig download offered); dedicated: clusters of their own, through the terminal only',
  })
  environment: 'shared' | 'dedicated';
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'A dedicated session waiting for room on the machine: its place in the queue (1 = next); null otherwise',
  })
  queuePosition: number | null;
  @ApiProperty({ type: [QuestionView] }) questions: QuestionView[];
  @ApiPropertyOptional({ type: [SessionEventView], description: 'Staff only' })
  events?: SessionEventView[];
}

export class StartedSessionView {
  @ApiProperty({ description: 'Bearer token for this session; shown once' }) sessionToken: string;
  @ApiProperty({ type: SessionView }) session: SessionView;
}

export class SessionSummaryView {
  @ApiProperty() id: string;
  @ApiProperty() examId: string;
  @ApiProperty() candidateName: string;
  @ApiProperty({ enum: ALL_SESSION_STATES }) state: SessionState;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deadline: string | null;
}
