// Package s3blob implements blob.Bucket on an Amazon S3 bucket with
// aws-sdk-go-v2.
//
// Bodies are sent from a bytes.Reader: the SDK signs a seekable body's hash,
// where a plain stream fails over plain HTTP (as against an S3 fake) and
// needs a content length anyway.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"supportpipe/internal/ports/blob"
)

// Options tune a bucket.
type Options struct {
	// PageSize is how many keys one ListObjectsV2 call asks for; zero means
	// S3's maximum of 1000.
	PageSize int32
}

// Bucket is a blob.Bucket on S3. It is safe for concurrent use.
type Bucket struct {
	c        *s3.Client
	name     string
	pageSize int32
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns the S3 bucket named name.
func New(client *s3.Client, name string, o Options) *Bucket {
	if o.PageSize <= 0 || o.PageSize > 1000 {
		o.PageSize = 1000
	}
	return &Bucket{c: client, name: name, pageSize: o.PageSize}
}

// Put implements blob.Bucket. S3 replaces an object atomically.
func (b *Bucket) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(b.name),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := b.c.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	return nil
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
			return nil, fmt.Errorf("s3blob: get %s: %w", key, blob.ErrNotFound)
		}
		return nil, fmt.Errorf("s3blob: get %s: %w", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3blob: get %s: %w", key, err)
	}
	return data, nil
}

// List implements blob.Bucket, following continuation tokens until limit
// keys or the end.
func (b *Bucket) List(ctx context.Context, prefix string, limit int) ([]string, error) {
	if err := blob.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.name), Prefix: aws.String(prefix), MaxKeys: aws.Int32(b.pageSize)}
	var keys []string
	for {
		if limit > 0 {
			in.MaxKeys = aws.Int32(int32(min(int(b.pageSize), limit-len(keys))))
		}
		out, err := b.c.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("s3blob: list %s: %w", prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if limit > 0 && len(keys) >= limit {
			return keys[:limit], nil
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// Delete implements blob.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if _, err := b.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("s3blob: delete %s: %w", key, err)
	}
	return nil
}
