import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { StaffRole } from '../auth/api-token.entity.js';
import { Allow, CurrentPrincipal, type Principal } from '../auth/principal.js';
import { CreateInvitationDto, CreatedInvitationView, InvitationView } from './invitations.dto.js';
import { InvitationsService } from './invitations.service.js';

@ApiTags('invitations')
@ApiBearerAuth()
@Controller('api/invitations')
@Allow(StaffRole.ADMIN, StaffRole.TRAINER)
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post()
  @ApiOperation({ summary: 'Invite one candidate to one exam (single-use code)' })
  @ApiResponse({ status: 201, type: CreatedInvitationView })
  create(
    @Body() dto: CreateInvitationDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedInvitationView> {
    return this.invitations.create(dto, principal as Principal & { kind: 'staff' });
  }

  @Get()
  @ApiOperation({ summary: 'Invitations, newest first' })
  @ApiResponse({ status: 200, type: [InvitationView] })
  list(): Promise<InvitationView[]> {
    return this.invitations.list();
  }
}
