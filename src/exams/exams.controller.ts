import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, Public } from '../auth/principal.js';
import { ExamsService } from './exams.service.js';

export class ExamView {
  @ApiProperty() id: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty() durationMinutes: number;
  @ApiProperty() passPercent: number;
  @ApiProperty({ description: 'Can be started without an invitation' }) open: boolean;
  @ApiProperty({ description: 'Questions a session gets' }) questionCount: number;
  @ApiPropertyOptional({ description: 'Staff only: the fixed list, if the exam has one' })
  questions?: string[];
}

@ApiTags('exams')
@Controller('api/exams')
export class ExamsController {
  constructor(private readonly exams: ExamsService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Exams: open ones for everybody, all of them for staff' })
  list(@CurrentPrincipal() principal?: Principal): ExamView[] {
    const staff = principal?.kind === 'staff';
    return this.exams
      .list()
      .filter((exam) => staff || exam.spec.open)
      .map(({ spec }) => ({
        id: spec.id,
        title: spec.title,
        description: spec.description,
        durationMinutes: spec.durationMinutes,
        passPercent: spec.passPercent,
        open: spec.open,
        questionCount: spec.questions?.length ?? spec.draw!.count,
        ...(staff && spec.questions ? { questions: spec.questions } : {}),
      }));
  }
}
