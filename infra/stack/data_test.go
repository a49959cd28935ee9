package stack

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
)

func TestTableSchema(t *testing.T) {
	countIs(t, "AWS::DynamoDB::Table", 1)
	// Exact key schema and attribute list: the DynamoDB store adapter is
	// written against these names, so nothing may be added or renamed.
	hasProps(t, "table keys and settings", "AWS::DynamoDB::Table", M{
		"KeySchema": A{
			M{"AttributeName": "pk", "KeyType": "HASH"},
			M{"AttributeName": "sk", "KeyType": "RANGE"},
		},
		"AttributeDefinitions": A{
			M{"AttributeName": "pk", "AttributeType": "S"},
			M{"AttributeName": "sk", "AttributeType": "S"},
			M{"AttributeName": "gsi1pk", "AttributeType": "S"},
			M{"AttributeName": "gsi1sk", "AttributeType": "S"},
		},
		"GlobalSecondaryIndexes": A{M{
			"IndexName": "gsi1",
			"KeySchema": A{
				M{"AttributeName": "gsi1pk", "KeyType": "HASH"},
				M{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
			},
			"Projection": M{"ProjectionType": "ALL"},
		}},
		"TimeToLiveSpecification":          M{"AttributeName": "ttl", "Enabled": true},
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": M{"PointInTimeRecoveryEnabled": true},
		"DeletionProtectionEnabled":        true,
		"SSESpecification":                 M{"SSEEnabled": true},
	})
	check(t, "table is retained", func() {
		tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), M{
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		})
	})
	// The GSI must not declare provisioned throughput (on-demand table).
	p := props(t, logicalID(sup.Table))
	if gsis, _ := p["GlobalSecondaryIndexes"].([]interface{}); len(gsis) == 1 {
		if _, has := gsis[0].(M)["ProvisionedThroughput"]; has {
			t.Error("gsi1 has ProvisionedThroughput on a PAY_PER_REQUEST table")
		}
	}
}

func TestBucket(t *testing.T) {
	countIs(t, "AWS::S3::Bucket", 2) // data and its access logs
	hasProps(t, "bucket settings", "AWS::S3::Bucket", M{
		"LoggingConfiguration": M{"DestinationBucketName": anyValue(), "LogFilePrefix": "bucket/"},
		"PublicAccessBlockConfiguration": M{
			"BlockPublicAcls": true, "BlockPublicPolicy": true,
			"IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		},
		"BucketEncryption": M{"ServerSideEncryptionConfiguration": A{
			M{"ServerSideEncryptionByDefault": M{"SSEAlgorithm": "AES256"}},
		}},
		"VersioningConfiguration": M{"Status": "Enabled"},
		"LifecycleConfiguration": M{"Rules": arrayWith(
			M{"Prefix": "claims/", "ExpirationInDays": ClaimsExpirationDays, "Status": "Enabled"},
		)},
	})
	check(t, "bucket is retained", func() {
		tmpl.HasResource(jsii.String("AWS::S3::Bucket"), M{
			"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		})
	})
	// enforceSSL: the bucket policy denies every request without TLS.
	bucket := logicalID(sup.Bucket)
	hasProps(t, "bucket policy denies non-TLS", "AWS::S3::BucketPolicy", M{
		"Bucket": ref(bucket),
		"PolicyDocument": M{"Statement": arrayWith(M{
			"Effect":    "Deny",
			"Action":    "s3:*",
			"Principal": M{"AWS": "*"},
			"Condition": M{"Bool": M{"aws:SecureTransport": "false"}},
		})},
	})
	// Only the claim check's backstop expires current objects: reports
	// are kept, and the spool never expires what was acknowledged.
	rules := props(t, bucket)["LifecycleConfiguration"].(M)["Rules"].([]interface{})
	for _, r := range rules {
		rule := r.(M)
		if _, exp := rule["ExpirationInDays"]; exp && rule["Prefix"] != "claims/" {
			t.Errorf("lifecycle rule %v expires objects outside claims/", rule["Id"])
		}
	}
}

func TestEventsQueue(t *testing.T) {
	countIs(t, "AWS::SQS::Queue", 6) // events, drafts, their DLQs, scheduled failures, undelivered notifications
	dlq := logicalID(sup.DLQ)
	hasProps(t, "events queue", "AWS::SQS::Queue", M{
		"SqsManagedSseEnabled":   true,
		"MaximumMessageSize":     1048576,
		"MessageRetentionPeriod": 4 * 24 * 3600,
		"RedrivePolicy":          M{"deadLetterTargetArn": arnOf(dlq), "maxReceiveCount": 5},
	})
	q := props(t, logicalID(sup.Queue))
	vis := num(t, q["VisibilityTimeout"], "VisibilityTimeout")
	proc := num(t, props(t, logicalID(sup.Processor))["Timeout"], "processor Timeout")
	if vis < 6*proc {
		t.Errorf("events VisibilityTimeout %v s < 6 × processor timeout %v s", vis, proc)
	}
	if q["SqsManagedSseEnabled"] != true {
		t.Errorf("events queue not SSE-SQS: %v", q["SqsManagedSseEnabled"])
	}
	// The processor's own 3 attempts must come before the queue's redrive.
	if rc := num(t, q["RedrivePolicy"].(M)["maxReceiveCount"], "maxReceiveCount"); rc <= 3 {
		t.Errorf("maxReceiveCount %v must exceed the processor's 3 attempts", rc)
	}
}

func TestDeadLetterQueues(t *testing.T) {
	for name, q := range map[string]string{"events DLQ": logicalID(sup.DLQ), "drafts DLQ": logicalID(sup.DraftsDLQ)} {
		p := props(t, q)
		if p["MessageRetentionPeriod"] != float64(14*24*3600) {
			t.Errorf("%s retention = %v, want 14 days", name, p["MessageRetentionPeriod"])
		}
		if p["SqsManagedSseEnabled"] != true {
			t.Errorf("%s not encrypted", name)
		}
		if p["MaximumMessageSize"] != float64(1048576) {
			t.Errorf("%s MaximumMessageSize = %v", name, p["MaximumMessageSize"])
		}
		if _, has := p["RedrivePolicy"]; has {
			t.Errorf("%s has a redrive policy of its own", name)
		}
	}
}

func TestDraftsQueue(t *testing.T) {
	p := props(t, logicalID(sup.Drafts))
	want := js(M{"deadLetterTargetArn": arnOf(logicalID(sup.DraftsDLQ)), "maxReceiveCount": 5})
	if got := js(p["RedrivePolicy"]); got != want {
		t.Errorf("drafts RedrivePolicy = %s, want %s", got, want)
	}
	if p["SqsManagedSseEnabled"] != true || p["MaximumMessageSize"] != float64(1048576) {
		t.Errorf("drafts queue encryption/size: %v / %v", p["SqsManagedSseEnabled"], p["MaximumMessageSize"])
	}
}

func TestQueuesEnforceTLS(t *testing.T) {
	countIs(t, "AWS::SQS::QueuePolicy", 6)
	for _, q := range []string{logicalID(sup.Queue), logicalID(sup.DLQ), logicalID(sup.Drafts), logicalID(sup.DraftsDLQ)} {
		hasProps(t, "TLS-only policy for "+q, "AWS::SQS::QueuePolicy", M{
			"Queues": A{ref(q)},
			"PolicyDocument": M{"Statement": arrayWith(M{
				"Effect":    "Deny",
				"Condition": M{"Bool": M{"aws:SecureTransport": "false"}},
			})},
		})
	}
}

func TestSecrets(t *testing.T) {
	countIs(t, "AWS::SecretsManager::Secret", 3)
	// Generated without punctuation, so never containing the comma that
	// separates several webhook secrets.
	check(t, "all secrets generated without punctuation", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::SecretsManager::Secret"), M{
			"GenerateSecretString": M{"ExcludePunctuation": true},
		})
	})
}
