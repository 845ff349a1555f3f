package models

import (
	"fmt"

	"github.com/mlbench/mlbench/torch"
)

// Cache is a GPT-2 KV cache: per layer, buffers of keys and values
// [B, n_head, capacity, head_dim] whose first Len positions hold those of
// every position run so far. Forward writes the new positions in place
// (growing the buffers by doubling when they are full), so that a step
// copies only its own keys and values, not the whole past as torch.cat
// (transformers' DynamicCache) does. Close frees it; a closed Cache is empty
// and can be reused.
type Cache struct {
	keys, values    []*torch.Tensor
	batch, capacity int64
	n               int
}

// NewCache is an empty cache for m.
func (m *GPT2) NewCache() *Cache {
	return &Cache{keys: make([]*torch.Tensor, len(m.blocks)), values: make([]*torch.Tensor, len(m.blocks))}
}

// Len is the number of cached positions.
func (c *Cache) Len() int { return c.n }

// Close frees the cached keys and values and empties the cache.
func (c *Cache) Close() error {
	closeAll(c.keys...)
	closeAll(c.values...)
	clear(c.keys)
	clear(c.values)
	c.n, c.batch, c.capacity = 0, 0, 0
	return nil
}

// minCacheCapacity is the first capacity of a cache's buffers (positions).
const minCacheCapacity = 64

// reserve makes the buffers hold at least T positions of batch B, keeping
// the cached ones: new buffers (double the capacity, at most n_positions)
// when they are full. A failure leaves the cache as it was.
func (c *Cache) reserve(m *GPT2, B, T int64) error {
	if c.n > 0 && B != c.batch {
		return fmt.Errorf("gpt2: batch %d after a cache of batch %d", B, c.batch)
	}
	if c.keys[0] != nil && B == c.batch && T <= c.capacity {
		return nil
	}
	capacity := min(max(T, 2*c.capacity, minCacheCapacity), int64(m.Config.NPositions))
	nh := int64(m.Config.NHead)
	shape := []int64{B, nh, capacity, int64(m.Config.NEmbd) / nh}
	keys, values := make([]*torch.Tensor, len(c.keys)), make([]*torch.Tensor, len(c.values))
	grow := func(old *torch.Tensor) (*torch.Tensor, error) {
		t, err := torch.Zeros(shape, torch.Float32, m.Device)
		if err != nil || c.n == 0 {
			return t, err
		}
		if err := copyPositions(t, old, int64(c.n)); err != nil {
			t.Close()
			return nil, err
		}
		return t, nil
	}
	var err error
	for i := range keys {
		if keys[i], err = grow(c.keys[i]); err == nil {
			values[i], err = grow(c.values[i])
		}
		if err != nil {
			closeAll(keys...)
			closeAll(values...)
			return fmt.Errorf("gpt2: KV cache of %d positions: %w", capacity, err)
		}
	}
	closeAll(c.keys...)
	closeAll(c.values...)
	copy(c.keys, keys)
	copy(c.values, values)
	c.batch, c.capacity = B, capacity
	return nil
}

// copyPositions copies positions 0 .. n-1 (dim 2) of src into dst.
func copyPositions(dst, src *torch.Tensor, n int64) error {
	s := torch.NewScope()
	defer s.Close()
	d, f := s.Narrow(dst, 2, 0, n), s.Narrow(src, 2, 0, n)
	if err := s.Err(); err != nil {
		return err
	}
	return d.CopyFrom(f)
}

// appendKV writes x [B, n_head, S, head_dim] at positions past .. past+S-1
// of the buffer buf and returns the view of its positions 0 .. past+S-1.
func appendKV(s *torch.Scope, buf, x *torch.Tensor, past, S int64) *torch.Tensor {
	dst := s.Narrow(buf, 2, past, S)
	if s.Err() != nil {
		return nil
	}
	if err := dst.CopyFrom(x); err != nil {
		return s.Keep(nil, err)
	}
	return s.Narrow(buf, 2, 0, past+S)
}

// tiedHead takes wte [vocab, n_embd] and returns the LM head wteᵀ
// [n_embd, vocab] as a contiguous copy and wte as its transposed view, then
// closes the given wte, so that one copy of the weights remains. On an error
// it records it in w and returns nils.
func tiedHead(w *weights, wte *torch.Tensor) (head, view *torch.Tensor) {
	if wte == nil {
		return nil, nil
	}
	defer wte.Close()
	s := torch.NewScope()
	defer s.Close()
	head = s.Contiguous(s.Transpose(wte, 0, 1))
	view = s.Transpose(head, 0, 1)
	if err := s.Err(); err != nil {
		if w.err == nil {
			w.err = err
		}
		return nil, nil
	}
	return s.Release(head), s.Release(view)
}
