package sqlitequeue

// Journaled says whether sends go through the intake journal.
func (q *Queue) Journaled() bool { return q.in != nil }
