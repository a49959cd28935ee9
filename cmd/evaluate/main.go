// Command evaluate measures the tagger, the anger detector and the drafting
// provider on the shared labelled data and the hand-labelled urgency cases,
// and the tagger on questions from another domain (testdata/outofdomain),
// prints the figures, and exits with status 1 if any target is missed, so
// that it can gate a build.
//
// Run it from the repository root (make eval); the shared data is expected
// beside the repository, in ../shared/data.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
)

func main() {
	var p paths
	flag.StringVar(&p.bitext, "bitext", "../shared/data/bitext/dev.jsonl", "tagging data: JSON lines with text and tags")
	flag.StringVar(&p.goemotions, "goemotions", "../shared/data/goemotions/dev.jsonl", "anger data: JSON lines with text and angry")
	flag.StringVar(&p.urgent, "urgent", "testdata/urgent.jsonl", "urgency cases: JSON lines with text and urgent")
	kb := flag.String("kb", "../shared/data/bitext/kb.jsonl", "drafting knowledge base (short_code, content, examples), measured with and without its examples on the -bitext messages' intents")
	flag.StringVar(&p.ood, "ood", "testdata/outofdomain", "out-of-domain data: <source>_<split>.jsonl files with text and intent")
	flag.StringVar(&p.oodSplit, "ood-split", "test", "the out-of-domain split to measure: test, or dev (the one to tune on)")
	flag.Parse()
	log.SetFlags(0)

	r, err := evaluate(p)
	if err != nil {
		log.Fatal(err)
	}
	r.print(os.Stdout, p)
	d, err := evaluateDrafting(*kb, p.bitext, p.ood, p.oodSplit)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	d.print(os.Stdout, p.bitext)
	if m := append(r.missed(), d.missed()...); len(m) > 0 {
		fmt.Println()
		for _, s := range m {
			fmt.Println("MISSED:", s)
		}
		os.Exit(1)
	}
	fmt.Println("\nall targets met")
}
