// Package dynamostore implements store.Store on a single DynamoDB table.
//
// The table has a string partition key pk and sort key sk, one global
// secondary index gsi1 (gsi1pk, gsi1sk; all attributes projected) and TTL on
// the number attribute ttl (epoch seconds). Items:
//
//	pk                  sk             attributes
//	CONV#<acct>#<id>    STATE          version, state (JSON); gsi1pk, gsi1sk while a customer waits
//	CONV#<acct>#<id>    ACTIONS        seq: the conversation's claim counter
//	CONV#<acct>#<id>    ACTION#<id>    seq, kind, status, owner, detail, result, at, updated
//	IDEM#<key>          IDEM           exp, ttl, owner
//	DLV#<acct>#<conv>   IDEM#<key>     the same for a key scoped to a conversation (store.ScopedKey); e: its log entry
//	DLV#<acct>#<conv>   LOG#<at>#<r>   e: a delivery log entry that belongs to no completion, ttl
//	DLOG#<day>[#<cls>]  <at>#<r>       e: delivery log entries written together, packed (deliveries.go), ttl
//	ATTEMPT#<msg id>    ATTEMPT        attempts, reason, exp, ttl
//	COUNTERS#<day>      COUNTERS       c.<name> per counter
//	COUNTERS#<day>      COUNTERS#draft c.<name> per counter of the drafter's (draft…; counters.go)
//	DAY#<day>#<kind>    <id>           data, at, v (the version: a put of an older one is refused)
//	MARK#<name>         MARK           at (string, see markTime)
//
// Times are unix nanoseconds. TTL deletion runs up to days late, so reads
// compare the exact exp attribute and treat expired items as absent.
package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
)

// Attribute names of the table schema.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSIPK  = "gsi1pk"
	attrGSISK  = "gsi1sk"
	attrTTL    = "ttl"
	indexGSI   = "gsi1"
	waitingKey = "WAITING" // gsi1pk of conversations waiting for a first response
)

// Store is the DynamoDB store.
type Store struct {
	db    *dynamodb.Client
	table string
}

var _ store.Store = (*Store)(nil)

// New returns a store on the named table, which must have the schema
// CreateTable makes.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table}
}

// CreateTable creates the table with the store's schema, for tests and local
// runs; the deployed table is made by the CDK stack. It neither waits for the
// table to become active (minidyn never reports a status) nor enables TTL on
// ttl (no local fake implements UpdateTimeToLive).
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr(attrPK), attr(attrSK), attr(attrGSIPK), attr(attrGSISK)},
		KeySchema:            keys(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(indexGSI),
			KeySchema:  keys(attrGSIPK, attrGSISK),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// Close implements store.Store; the client holds nothing to release.
func (s *Store) Close() error { return nil }

// Ping reads one item by key.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.get(ctx, "PING", "PING"); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Keys names the key attributes of the table and of its index, which
// projects all attributes.
func Keys() (pk, sk, indexPK, indexSK string) { return attrPK, attrSK, attrGSIPK, attrGSISK }
