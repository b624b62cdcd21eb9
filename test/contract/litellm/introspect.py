"""Checks a rendered config.yaml against the INSTALLED LiteLLM (run with the contract venv's python).

LiteLLM silently ignores unknown keys in several sections (router_settings keys that are not Router
arguments are dropped, litellm_settings keys become module attributes), so "the proxy started" does
not prove that a key is understood. This script asks the pinned version itself what it accepts:

  top level         -> the sections the proxy's load_config reads
  router_settings   -> arguments of litellm.Router (the proxy's own filter)
  retry_policy      -> fields of litellm.types.router.RetryPolicy
  litellm_settings  -> attributes of the litellm module, or keys load_config handles itself
  cache_params      -> parameters of litellm.caching.caching.Cache
  callbacks         -> litellm._known_custom_logger_compatible_callbacks
  general_settings  -> fields of litellm.proxy._types.ConfigGeneralSettings
  litellm_params    -> LiteLLM_Params fields, OpenAI chat parameters, or keys the router reads by name
  model_info        -> ModelInfo keys or custom pricing fields (registered in the cost map)

Usage: INTROSPECT_USER_KEYS=k1,k2 python introspect.py <config.yaml>...  (user keys: additionalParameters)
Prints JSON: {"version": ..., "results": [{"unknown": [...], "config": <the YAML as LiteLLM's loader reads it>}]}.
"""

import importlib.metadata
import inspect
import json
import os
import pathlib
import sys

import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm.caching.caching import Cache  # noqa: E402
from litellm.proxy._types import ConfigGeneralSettings  # noqa: E402
from litellm.types.router import (  # noqa: E402
    CustomPricingLiteLLMParams,
    LiteLLM_Params,
    ModelInfo,
    RetryPolicy,
)

user_keys = set(k for k in os.environ.get("INTROSPECT_USER_KEYS", "").split(",") if k)


def check(path):
    with open(path) as f:
        config = yaml.safe_load(f)  # the loader the proxy uses

    unknown = []
    SECTIONS = {"model_list", "router_settings", "litellm_settings", "general_settings"}
    for k in config:
        if k not in SECTIONS:
            unknown.append(f"{k}")

    router_args = set(inspect.getfullargspec(litellm.Router).args) - {"self", "model_list"}
    for k, v in (config.get("router_settings") or {}).items():
        if k not in router_args:
            unknown.append(f"router_settings.{k}")
        if k == "retry_policy":
            for rk in v:
                if rk not in RetryPolicy.model_fields:
                    unknown.append(f"router_settings.retry_policy.{rk}")

    HANDLED_BY_PROXY = {"cache", "cache_params", "callbacks"}
    cache_args = set(inspect.signature(Cache.__init__).parameters) - {"self"}
    for k, v in (config.get("litellm_settings") or {}).items():
        if k not in HANDLED_BY_PROXY and not hasattr(litellm, k):
            unknown.append(f"litellm_settings.{k}")
        if k == "cache_params":
            for ck in v:
                if ck not in cache_args:
                    unknown.append(f"litellm_settings.cache_params.{ck}")
        if k == "callbacks":
            for cb in v:
                if cb not in litellm._known_custom_logger_compatible_callbacks:
                    unknown.append(f"litellm_settings.callbacks[{cb}]")

    for k in config.get("general_settings") or {}:
        if k not in ConfigGeneralSettings.model_fields:
            unknown.append(f"general_settings.{k}")

    # Keys the router reads from litellm_params by name (not model fields): prove each is read in source.
    pkg = pathlib.Path(litellm.__file__).parent
    router_source = "\n".join(
        p.read_text() for p in [pkg / "router.py", pkg / "utils.py", *sorted((pkg / "router_strategy").glob("*.py"))]
    )
    ROUTER_READ = {k for k in ("weight", "order", "max_parallel_requests") if f'"{k}"' in router_source}
    param_keys = set(LiteLLM_Params.model_fields) | set(litellm.OPENAI_CHAT_COMPLETION_PARAMS) | ROUTER_READ
    info_keys = set(ModelInfo.__annotations__) | set(CustomPricingLiteLLMParams.model_fields)
    for i, d in enumerate(config.get("model_list") or []):
        for k in d:
            if k not in {"model_name", "litellm_params", "model_info"}:
                unknown.append(f"model_list[{i}].{k}")
        for k in d.get("litellm_params") or {}:
            if k not in param_keys and k not in user_keys:
                unknown.append(f"model_list[{i}].litellm_params.{k}")
        for k in d.get("model_info") or {}:
            if k not in info_keys:
                unknown.append(f"model_list[{i}].model_info.{k}")


    return {"unknown": unknown, "config": config}


print(json.dumps({"version": importlib.metadata.version("litellm"), "results": [check(p) for p in sys.argv[1:]]}, default=str))
