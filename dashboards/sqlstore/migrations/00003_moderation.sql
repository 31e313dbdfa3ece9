-- Moderation that hides (civic.StatusRefused, civic.CommentHidden): the
-- reason code (civic.ModerationReason: abusive, off_topic, duplicate, other)
-- and the optional note a moderator gives, shown to the content's author and
-- the moderators only. proposal_history.reason keeps the note, reason_code
-- the code.
--
-- Before this version a moderator refused a submitted proposal by moving it
-- to 'rejected', which made it public. Those proposals (rejected straight
-- from submitted: rejected is final, so that was their last step) become
-- 'refused' with the reason 'other' and their reason as the note.

-- +goose Up
ALTER TABLE proposals ADD COLUMN moderation_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE proposals ADD COLUMN moderation_note TEXT NOT NULL DEFAULT '';
ALTER TABLE comments ADD COLUMN moderation_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE comments ADD COLUMN moderation_note TEXT NOT NULL DEFAULT '';
ALTER TABLE proposal_history ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';

UPDATE proposals
SET status = 'refused', moderation_reason = 'other', moderation_note = rejection_reason, rejection_reason = ''
WHERE status = 'rejected' AND EXISTS (
    SELECT 1 FROM proposal_history h
    WHERE h.proposal_id = proposals.id AND h.from_status = 'submitted' AND h.to_status = 'rejected');
UPDATE proposal_history SET to_status = 'refused', reason_code = 'other'
WHERE from_status = 'submitted' AND to_status = 'rejected';

-- +goose Down
-- The schema before this version has no status that hides a proposal once
-- moderated: refused proposals go back to 'submitted', hidden and waiting
-- for a moderator, rather than public.
UPDATE proposal_history SET to_status = 'submitted' WHERE to_status = 'refused';
UPDATE proposals SET status = 'submitted' WHERE status = 'refused';
ALTER TABLE proposal_history DROP COLUMN reason_code;
ALTER TABLE comments DROP COLUMN moderation_note;
ALTER TABLE comments DROP COLUMN moderation_reason;
ALTER TABLE proposals DROP COLUMN moderation_note;
ALTER TABLE proposals DROP COLUMN moderation_reason;
