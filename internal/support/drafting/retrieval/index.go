// Package retrieval is the embedded drafting provider: it answers a customer
// message with the canned response that fits it best, from a knowledge file
// and the account's canned responses in Chatwoot, and abstains when none
// fits clearly enough. No network, no model: a lexical index whose cost is
// linear in the message (at most MaxTextRunes characters read) and bounded
// by the knowledge's size.
//
// A message and each canned response meet on terms: words folded to plain
// lower case, corrected when a typo of a known word, stripped of inflections
// and of the words every request shares ("I need help to…"), and mapped
// onto the concepts of a thesaurus of support vocabulary, plus each pair of
// neighbouring terms. A response is scored by TF-IDF cosine similarity
// against its closest example question, its content and its short code; the
// confidence weighs how close the best response is and how far it leads,
// and, for a response without examples, how much of its short code the
// message says.
package retrieval

import (
	"math"
	"slices"
	"strings"
	"sync"

	"supportpipe/internal/support/drafting"
)

// Weights of the parts of an entry in its score. The examples are questions
// like the customer's and weigh most; the content and the short code say
// what the response is about in other words.
const (
	weightExamples = 1.0
	weightContent  = 0.3
	weightCode     = 0.3
	// weightPair is a pair of neighbouring terms' share of a term's weight:
	// "change order" and "order change" are near, "change account" is not.
	weightPair = 0.5
	// codeFloor is the confidence's factor for a response without examples
	// when the message says none of its short code's words, rising to 1
	// when it says them all. A short code is what the team named the
	// response for: "How do I close my account?" says all of delete_account,
	// "why was I charged €1?" one word of check_cancellation_fee. Not 0: a
	// message can ask for a response in words its short code does not use
	// ("Do you take PayPal?" for payment_methods), and a clear match in the
	// content still counts.
	codeFloor = 0.5
)

// Parts of an entry.
const (
	partContent = iota
	partCode
	partExample
)

// Index finds the canned responses that fit a message. It is immutable
// once built and safe for concurrent use.
type Index struct {
	entries []drafting.Canned
	th      *thesaurus
	vocab   *vocabulary
	termIDs map[string]int32
	// postings[t] lists the documents (an entry's content, short code or
	// one example) holding term t, with the term's weight in each.
	postings [][]posting
	idf      []float64
	// unknownIDF weighs a message's terms that no entry has.
	unknownIDF float64
	docs       []doc
	// sameContent[i] is the first entry with the content of entry i.
	sameContent []int
	// code[i] lists the terms of entry i's short code, each weighing its
	// IDF, for cover; empty when the code names nothing ("r1", "ty"), and
	// then an entry without examples is scored on its content alone.
	code    [][]weighted
	scratch sync.Pool // *[]float64, one score per document
}

type posting struct {
	doc int32
	w   float64
}

type doc struct {
	entry int32
	part  int8
}

// Match is a canned response and how well it fits a message: its cosine
// similarity, 0 to 1.
type Match struct {
	drafting.Canned
	Similarity float64
}

// Result is what Search found.
type Result struct {
	// Matches are the best entries, best first, without two of the same
	// content.
	Matches []Match
	// Confidence is the geometric mean of the best match's similarity and
	// of its lead over the next one of other content, 0 to 1 (0 when
	// nothing matched): a draft needs both a close match, which a message
	// about something the knowledge does not cover lacks, and a clear one,
	// which a message between two responses lacks. When the best match has
	// no examples, it is also weighed by how much of the match's short
	// code the message says (cover).
	Confidence float64
}

// NewIndex indexes entries.
func NewIndex(entries []drafting.Canned) *Index {
	ix := &Index{
		entries: slices.Clone(entries),
		th:      defaultThesaurus,
		vocab:   newVocabulary(),
		termIDs: map[string]int32{},
	}
	for w := range stopwords {
		ix.vocab.add(w)
	}
	for _, w := range ix.th.surfaces {
		ix.vocab.add(w)
	}
	for _, e := range ix.entries {
		for _, text := range append([]string{e.Content, codeText(e.ShortCode)}, e.Examples...) {
			eachWord(text, ix.vocab.add)
		}
	}
	var vectors [][]weighted
	df := map[int32]int{}
	ix.sameContent = make([]int, len(ix.entries))
	firstOf := map[string]int{}
	for i, e := range ix.entries {
		if j, ok := firstOf[e.Content]; ok {
			ix.sameContent[i] = j
		} else {
			firstOf[e.Content], ix.sameContent[i] = i, i
		}
		seen := map[int32]bool{}
		name := codeText(e.ShortCode)
		add := func(text string, part int8) {
			var v []weighted
			for _, f := range ix.features(text) {
				id, ok := ix.termIDs[f.term]
				if !ok {
					id = int32(len(ix.termIDs))
					ix.termIDs[f.term] = id
				}
				v = append(v, weighted{id, f.n})
				if !seen[id] {
					seen[id] = true
					df[id]++
				}
			}
			ix.docs = append(ix.docs, doc{entry: int32(i), part: part})
			vectors = append(vectors, v)
		}
		add(indexedContent(e.Content), partContent)
		add(name, partCode)
		var code []weighted
		if names(name) {
			for _, f := range ix.features(name) {
				if id := ix.termIDs[f.term]; !f.pair && !slices.ContainsFunc(code, func(x weighted) bool { return x.id == id }) {
					code = append(code, weighted{id: id})
				}
			}
		}
		ix.code = append(ix.code, code)
		for _, ex := range e.Examples {
			add(ex, partExample)
		}
	}
	n := float64(len(ix.entries))
	ix.idf = make([]float64, len(ix.termIDs))
	for id := range ix.idf {
		ix.idf[id] = math.Log((n + 1) / (float64(df[int32(id)]) + 0.5))
	}
	ix.unknownIDF = math.Log((n + 1) / 0.5)
	for _, code := range ix.code {
		for j := range code {
			code[j].w = ix.idf[code[j].id]
		}
	}
	ix.postings = make([][]posting, len(ix.termIDs))
	for d, v := range vectors {
		for _, x := range ix.weigh(v) {
			ix.postings[x.id] = append(ix.postings[x.id], posting{doc: int32(d), w: x.w})
		}
	}
	ndocs := len(ix.docs)
	ix.scratch.New = func() any { s := make([]float64, ndocs); return &s }
	return ix
}

// Len is the number of entries.
func (ix *Index) Len() int { return len(ix.entries) }

// codeText reads a short code as words: "track_refund" is "track refund".
func codeText(code string) string {
	return strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(code)
}

// names reports whether a short code read as words names something: a word
// of three letters or more that is not a stopword. "r1", "ty" or "a2" do
// not, and no message is expected to say them.
func names(codeText string) bool {
	named := false
	eachWord(codeText, func(w string) { named = named || (len(w) >= 3 && !stopwords[w]) })
	return named
}

// indexedContent is what of a canned response's content is matched:
// Chatwoot's variables ({{contact.name}}, {{agent.email}}: a namespace, a
// dot and a name) stand for whoever the conversation is with, not for what
// the response is about, and "contact" would meet every message asking how
// to reach us. Other variables ({{Order Number}}) say what the reply is
// about, and stay.
func indexedContent(content string) string {
	if !strings.Contains(content, "{{") {
		return content
	}
	return placeholder.ReplaceAllStringFunc(content, func(m string) string {
		if strings.Contains(m, ".") {
			return " "
		}
		return m
	})
}

// weighted is a term and its count or weight.
type weighted struct {
	id int32
	w  float64
}

// weigh turns term counts into a unit vector of TF-IDF weights.
func (ix *Index) weigh(v []weighted) []weighted {
	w := make([]weighted, len(v))
	norm := 0.0
	for i, x := range v {
		w[i] = weighted{x.id, tf(x.w) * ix.idf[x.id]}
		norm += w[i].w * w[i].w
	}
	if norm == 0 {
		return w
	}
	norm = math.Sqrt(norm)
	for i := range w {
		w[i].w /= norm
	}
	return w
}

// tf dampens repetition: a word said three times is not three times the
// topic. A pair's fraction of a count weighs as it is.
func tf(n float64) float64 {
	if n < 1 {
		return n
	}
	return 1 + math.Log(n)
}

// Search scores every entry against text and returns the best k.
func (ix *Index) Search(text string, k int) Result {
	if len(ix.entries) == 0 || k <= 0 {
		return Result{}
	}
	var q []weighted
	// Against entries with examples, the query's norm counts the terms that
	// no entry has: they lengthen the message without matching anything,
	// and the examples, questions as customers ask them, hold most of what
	// a customer says around the request. Against entries without them,
	// it does not: their vocabulary is the few dozen words of a reply, and
	// all else a customer writes ("I sent the shoes back two weeks ago") is
	// unknown to it; counted, it sank a message's score with its length
	// ("Where is my refund?" 0.48, with that sentence 0.07).
	known, unknown := 0.0, 0.0
	for _, f := range ix.features(text) {
		if id, ok := ix.termIDs[f.term]; ok {
			x := tf(f.n) * ix.idf[id]
			q = append(q, weighted{id, x})
			known += x * x
		} else {
			x := tf(f.n) * ix.unknownIDF
			unknown += x * x
		}
	}
	if len(q) == 0 {
		return Result{}
	}
	norm, normKnown := math.Sqrt(known+unknown), math.Sqrt(known)
	sp := ix.scratch.Get().(*[]float64)
	defer ix.scratch.Put(sp)
	scores := *sp
	clear(scores)
	for _, x := range q {
		for _, p := range ix.postings[x.id] {
			scores[p.doc] += x.w * p.w
		}
	}
	type part struct{ content, code, example float64 }
	parts := make([]part, len(ix.entries))
	examples := make([]bool, len(ix.entries))
	for d, s := range scores {
		p := &parts[ix.docs[d].entry]
		switch ix.docs[d].part {
		case partContent:
			p.content = s
		case partCode:
			p.code = s
		default:
			examples[ix.docs[d].entry] = true
			p.example = max(p.example, s)
		}
	}
	sims := make([]float64, len(ix.entries))
	for i, p := range parts {
		if examples[i] {
			sims[i] = (weightExamples*p.example + weightContent*p.content + weightCode*p.code) /
				(weightExamples + weightContent + weightCode) / norm
		} else if len(ix.code[i]) > 0 {
			// A response without examples (Chatwoot's) is judged on what it
			// has, not held to a part it lacks.
			sims[i] = (weightContent*p.content + weightCode*p.code) / (weightContent + weightCode) / normKnown
		} else {
			// A short code that names nothing would only halve its score.
			sims[i] = p.content / normKnown
		}
	}
	// The entries that stand for their content (the best scored of those
	// that share it), best first; one more than k, for the runner-up.
	stands := make([]int, len(ix.entries))
	for i := range stands {
		stands[i] = -1
	}
	for i, s := range sims {
		if c := ix.sameContent[i]; stands[c] < 0 || s > sims[stands[c]] {
			stands[c] = i
		}
	}
	order := make([]int, 0, k+1)
	for _, i := range stands {
		if i < 0 {
			continue
		}
		// Ties keep the earlier entry first.
		at := len(order)
		for at > 0 && sims[order[at-1]] < sims[i] {
			at--
		}
		if at <= k {
			order = slices.Insert(order, at, i)
			order = order[:min(len(order), k+1)]
		}
	}
	var r Result
	for _, i := range order[:min(len(order), k)] {
		if sims[i] <= 0 {
			break
		}
		r.Matches = append(r.Matches, Match{Canned: ix.entries[i], Similarity: sims[i]})
	}
	if len(r.Matches) > 0 {
		best, lead := r.Matches[0].Similarity, r.Matches[0].Similarity
		if len(order) > 1 {
			lead -= max(sims[order[1]], 0)
		}
		r.Confidence = math.Sqrt(best * lead)
		if !examples[order[0]] {
			r.Confidence *= ix.cover(order[0], q)
		}
	}
	return r
}

// cover is the confidence's factor for entry i, which has no examples:
// from codeFloor when the query q says none of the words of its short code
// to 1 when it says them all, each word weighing its IDF (a code's rarer
// word says more of what it is for); 1 when the code names nothing.
func (ix *Index) cover(i int, q []weighted) float64 {
	code := ix.code[i]
	if len(code) == 0 {
		return 1
	}
	said, all := 0.0, 0.0
	for _, c := range code {
		all += c.w
		// A short code has a few words: a scan of the query for each keeps
		// this linear in the message.
		for _, x := range q {
			if x.id == c.id {
				said += c.w
				break
			}
		}
	}
	return codeFloor + (1-codeFloor)*said/all
}
