package fuzz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringcache/ringcache"
)

// checkLimits returns how c breaks its size limits for a key of keyLen
// bytes: a key of at most MaxKeySize bytes and a value that brings the
// sum to MaxEntrySize must be stored, by Set and by a load, and one byte
// more refused with ErrEntryTooLarge; a longer key is ErrKeyTooLarge.
func checkLimits(c *ringcache.Cache, keyLen int) error {
	most := c.MaxEntrySize()
	key := bytes.Repeat([]byte{'k'}, keyLen)
	if keyLen > c.MaxKeySize() {
		if err := c.Set(key, nil); !errors.Is(err, ringcache.ErrKeyTooLarge) {
			return fmt.Errorf("a %d-byte key over MaxKeySize %d: Set returned %v", keyLen, c.MaxKeySize(), err)
		}
		return nil
	}
	if keyLen > most {
		return nil
	}
	value := valueFor(keyLen, most-keyLen+1)
	if err := c.Set(key, value); !errors.Is(err, ringcache.ErrEntryTooLarge) {
		return fmt.Errorf("key %d + value %d over the limit %d: Set returned %v", keyLen, len(value), most, err)
	}
	value = value[:most-keyLen]
	if err := c.Set(key, value); err != nil {
		return fmt.Errorf("key %d + value %d at the limit: %w", keyLen, len(value), err)
	}
	if got, ok := c.Get(nil, key); !ok || !bytes.Equal(got, value) {
		return fmt.Errorf("key %d + value %d: Get returned %d bytes, %v", keyLen, len(value), len(got), ok)
	}
	c.Delete(key)
	load := func(context.Context, []byte) ([]byte, time.Duration, error) { return value, 0, nil }
	if _, err := c.GetOrLoad(context.Background(), nil, key, load); err != nil {
		return fmt.Errorf("key %d + value %d loaded: %w", keyLen, len(value), err)
	}
	if got, ok := c.Get(nil, key); !ok || !bytes.Equal(got, value) {
		return fmt.Errorf("key %d + loaded value %d: Get returned %d bytes, %v", keyLen, len(value), len(got), ok)
	}
	return c.Check()
}
