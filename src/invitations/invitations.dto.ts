import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class CreateInvitationDto {
  @ApiProperty() @IsString() @Length(1, 100) examId: string;
  @ApiProperty() @IsString() @Length(1, 200) candidateName: string;
  @ApiPropertyOptional({
    default: 72,
    minimum: 1,
    maximum: 720,
    description: 'Hours until the code stops working',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(720)
  expiresInHours?: number;
}

export class InvitationView {
  @ApiProperty() id: string;
  @ApiProperty() examId: string;
  @ApiProperty() candidateName: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) usedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) sessionId: string | null;
}

export class CreatedInvitationView extends InvitationView {
  @ApiProperty({ description: 'Give this to the candidate; it is shown only once' }) code: string;
}
