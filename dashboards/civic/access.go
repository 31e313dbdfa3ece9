package civic

// Who sees what, and who acts on what. The API asks these for every route
// and page that shows a proposal, a comment or a mission; where a list is
// filtered in SQL (the public proposals of a list, the approved comments),
// the SQL is built from PublicStatuses and CommentApproved.

// Moderates reports whether role r moderates: sees what moderation hides
// (proposals that are not public, pending and hidden comments) and decides
// on it. The administrators are the moderators.
func (r Role) Moderates() bool { return r == RoleAdmin }

// Moderator reports whether u (nil: an anonymous visitor) moderates.
func Moderator(u *User) bool { return u != nil && u.Role.Moderates() }

// Authored reports whether u wrote what authorID names ("" once its author's
// account is erased: nobody's).
func Authored(u *User, authorID string) bool { return u != nil && authorID != "" && u.ID == authorID }

// CanSee reports whether u (nil: an anonymous visitor) may see p: everyone a
// public proposal (Status.Public); its author and the moderators one that is
// not. To anyone else such a proposal does not exist.
func CanSee(u *User, p *Proposal) bool {
	return p.Status.Public() || Moderator(u) || Authored(u, p.AuthorID)
}

// CommentListed reports whether a proposal's page lists comment c to u: an
// approved comment to everyone, and u's own whatever its state (waiting for
// moderation, or hidden by it with its reason). Others' pending and hidden
// comments are the moderators' queue, not the page's.
func CommentListed(u *User, c *Comment) bool {
	return c.Status == CommentApproved || Authored(u, c.AuthorID)
}

// CanSeeComment reports whether u may read comment c: what CommentListed
// lists, and every comment for the moderators.
func CanSeeComment(u *User, c *Comment) bool { return CommentListed(u, c) || Moderator(u) }

// CanOperate reports whether u, admitted to the mission routes (an agent, a
// risk manager or an administrator), may act on mission m (change its
// status, upload its flight log): a field agent their own missions only.
func CanOperate(u *User, m *Mission) bool { return u.Role != RoleAgent || u.ID == m.AgentID }

// CheckCrew checks the drone and agent of a new mission as the store found
// them (nil: no such device or user): the drone must be a drone registered at
// the mission's site, and the agent a field agent.
func (m *Mission) CheckCrew(drone *Device, agent *User) error {
	switch {
	case drone == nil:
		return FieldError("drone_id", "unknown device")
	case drone.Kind != DeviceDrone || drone.SiteID != m.SiteID:
		return FieldError("drone_id", "must be a drone registered at site %s", m.SiteID)
	case agent == nil:
		return FieldError("agent_id", "unknown user")
	case agent.Role != RoleAgent:
		return FieldError("agent_id", "must be a field agent")
	}
	return nil
}

// CheckMissionStart refuses (ECONFLICT) a step of m to status to that would
// start it while its drone flies another: flying counts the drone's active
// missions (one drone, one active mission). Other steps pass.
func CheckMissionStart(m *Mission, to MissionStatus, flying int) error {
	if to == MissionActive && flying > 0 {
		return Errorf(ECONFLICT, "drone %s is already flying an active mission", m.DroneID)
	}
	return nil
}

// CheckAdminsLeft refuses (LastAdminError) to take the administrator role
// from an account, by a demotion or an erasure, when it is an administrator
// (admin) and no other is left (others counts the other administrators, as
// the store read them, locked, in the change's transaction).
func CheckAdminsLeft(admin bool, others int) error {
	if admin && others == 0 {
		return LastAdminError()
	}
	return nil
}
