package civic

// ErasedUser stands for an erased account wherever a record must name
// someone and cannot be NULL: proposal history (by), audit entries (actor,
// target). It is one constant for every erased account, so the records of
// one erased person cannot be linked to each other through it, and it is
// never a valid account id (ids are 16 characters).
const ErasedUser = "deleted"

// OtherActor replaces, in a person's GDPR export, the actor of an audit
// entry about them that someone else (or an anonymous client) did: the
// export says that it happened, not who did it.
const OtherActor = "other"

// LastAdminError is the refusal to demote or erase the last administrator:
// the platform would be left without anyone able to moderate or change roles.
// Message is English (like every API message); Extra["detail_fr"] is the same
// in French for the pages.
func LastAdminError() *Error {
	return &Error{
		Code:    ECONFLICT,
		Message: "this is the last administrator account: make another account administrator before demoting or deleting this one",
		Extra: map[string]any{
			"detail_fr": "C'est le dernier compte administrateur : nommez d'abord un autre administrateur avant de rétrograder ou de supprimer celui-ci.",
			"rule":      "last_admin",
		},
	}
}
