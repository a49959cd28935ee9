package s3blob_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/blob/blobtest"
	"supportpipe/internal/ports/blob/s3blob"
)

// client returns a client of a new in-process gofakes3 with one bucket.
func client(t *testing.T) *s3.Client {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
	})
	_, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("bucket")})
	require.NoError(t, err)
	return c
}

func TestConformance(t *testing.T) {
	for _, page := range []int32{0, 7} {
		t.Run(fmt.Sprintf("page size %d", page), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Bucket {
				return s3blob.New(client(t), "bucket", s3blob.Options{PageSize: page})
			})
		})
	}
}

func TestContentType(t *testing.T) {
	c := client(t)
	b := s3blob.New(c, "bucket", s3blob.Options{})
	require.NoError(t, b.Put(t.Context(), "r/report.html", []byte("<p>hi</p>"), "text/html; charset=utf-8"))
	out, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("r/report.html")})
	require.NoError(t, err)
	assert.Equal(t, "text/html; charset=utf-8", aws.ToString(out.ContentType))
}

// TestListBeyondOnePage lists more keys than S3 returns in one response.
func TestListBeyondOnePage(t *testing.T) {
	b := s3blob.New(client(t), "bucket", s3blob.Options{})
	const n = 1005
	var want []string
	for i := range n {
		k := fmt.Sprintf("k/%05d", i)
		want = append(want, k)
		require.NoError(t, b.Put(t.Context(), k, nil, ""))
	}
	got, err := b.List(t.Context(), "k/", 0)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = b.List(t.Context(), "k/", 1002)
	require.NoError(t, err)
	assert.Equal(t, want[:1002], got)
}
