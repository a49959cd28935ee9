package memstore_test

import (
	"testing"

	"supportpipe/internal/store"
	"supportpipe/internal/store/memstore"
	"supportpipe/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() }, storetest.Options{})
}
