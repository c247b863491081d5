import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { generateToken, hashToken, TokenPrefix } from '../auth/tokens.js';
import { ExamsService } from '../exams/exams.service.js';
import type {
  CreateInvitationDto,
  CreatedInvitationView,
  InvitationView,
} from './invitations.dto.js';
import { Invitation } from './invitation.entity.js';

@Injectable()
export class InvitationsService {
  constructor(
    @InjectRepository(Invitation) private readonly invitations: Repository<Invitation>,
    private readonly exams: ExamsService,
  ) {}

  async create(
    dto: CreateInvitationDto,
    by: Principal & { kind: 'staff' },
  ): Promise<CreatedInvitationView> {
    this.exams.get(dto.examId); // 404 for an unknown exam
    const code = generateToken(TokenPrefix.INVITATION);
    const now = new Date();
    const invitation: Invitation = {
      id: randomUUID(),
      codeHash: hashToken(code),
      examId: dto.examId,
      candidateName: dto.candidateName,
      createdBy: by.tokenId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + (dto.expiresInHours ?? 72) * 3600_000),
      usedAt: null,
      sessionId: null,
    };
    await this.invitations.insert(invitation);
    return Object.assign(toView(invitation), { code });
  }

  async list(): Promise<InvitationView[]> {
    return (await this.invitations.find({ order: { createdAt: 'DESC' }, take: 500 })).map(toView);
  }
}

function toView(i: Invitation): InvitationView {
  return {
    id: i.id,
    examId: i.examId,
    candidateName: i.candidateName,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    usedAt: i.usedAt ? i.usedAt.toISOString() : null,
    sessionId: i.sessionId,
  };
}
