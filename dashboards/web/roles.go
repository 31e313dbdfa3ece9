package web

import "github.com/cd06/smartdeal/dashboards/civic"

// The role groups of the route table, shared by the JSON routes and the
// pages: a page offers an action (a button, a link to a desk) to the roles
// the route it posts to accepts.
var (
	Admins          = []civic.Role{civic.RoleAdmin}
	Proposers       = []civic.Role{civic.RoleCitizen, civic.RoleAdmin}                       // submit proposals
	Reviewers       = []civic.Role{civic.RoleExpert, civic.RoleAdmin}                        // the review desk, the evidence
	WorkflowRoles   = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleAgent}       // workflow steps
	MissionOps      = []civic.Role{civic.RoleAgent, civic.RoleRiskManager, civic.RoleAdmin}  // fly missions
	MissionPlanners = []civic.Role{civic.RoleRiskManager, civic.RoleAdmin}                   // plan missions
	Linkers         = []civic.Role{civic.RoleAdmin, civic.RoleExpert, civic.RoleRiskManager} // link series
	AlertReaders    = []civic.Role{civic.RoleAgent, civic.RoleRiskManager, civic.RoleAdmin}  // the dashboard, alerts and rules
	AlertManagers   = []civic.Role{civic.RoleRiskManager, civic.RoleAdmin}                   // manage rules, acknowledge alerts
)
