// Package models runs transformer checkpoints for inference on package torch
// (libtorch from Go): BERT for extractive question answering (BertQA) and
// GPT-2 causal language modelling with a KV cache (GPT2).
//
// A model loads from a Hugging Face style directory: config.json (the
// transformers config; every size is read from it) and model.safetensors
// (transformers' parameter names, float32). The forward passes are written
// op by op on torch, the way transformers' modelling code computes them
// (attention through scaled_dot_product_attention, as transformers'
// attn_implementation="sdpa"), so their outputs agree with PyTorch's to
// float32 rounding; models_test.go checks them against values exported from
// transformers (testdata/reference.py).
//
// Usage:
//
//	m, err := models.LoadGPT2("data/models/gpt2", torch.CPU)
//	if err != nil { ... }
//	defer m.Close()
//	cache := m.NewCache()
//	defer cache.Close()
//	ids, _ := torch.FromInt64s(prompt, 1, int64(len(prompt)))
//	logits, err := m.Forward(ids, cache) // [1, len(prompt), vocab]; cache now holds the prompt
//
// Ownership follows package torch: the models own their weights until Close;
// every tensor a method returns belongs to the caller, who closes it; inputs
// are never consumed. The temporaries of a call are freed before it returns
// (a torch.Scope per call). Forward passes run with autograd off
// (torch.NoGrad). A model may be shared by goroutines only if they do not
// share a Cache; calls are not otherwise synchronised.
//
// Without the libtorch build tag the package compiles and every load fails
// with torch.ErrNotBuilt.
package models
