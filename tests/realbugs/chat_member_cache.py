# Helper module for task_abg.py: the coroutine function lives in another module, as in
# the real code (Abg/patch/decorators/cache.py). No finding is expected here.


async def is_admin(member):
    """Whether the chat member is an administrator (may fetch and cache the member)."""
    return getattr(member, "status", None) in ("administrator", "owner")


async def get_member_with_cache(client, chat_id, user_id):
    return await client.get_chat_member(chat_id, user_id)
