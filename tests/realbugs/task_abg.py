# AshokShau/Abg: "fix: RuntimeWarning: coroutine 'is_admin' was never awaited"
# https://github.com/AshokShau/Abg/pull/17 (commit 6818b36)
# Family: task (LKL2). The adminsOnly decorator factory's async wrapper tested
# `if not is_admin(bot):` where is_admin is a coroutine function imported from another
# module: the coroutine was never awaited (and always truthy, so the check never fired).
# The fix awaits each call.
import functools

from chat_member_cache import get_member_with_cache, is_admin


# Before the fix.
def admins_only(permissions=None, is_bot=False, is_user=False):
    def decorator(func):
        @functools.wraps(func)
        async def wrapper(client, message, *args, **kwargs):
            sender = message.reply_text
            chat_id = message.chat.id
            if is_bot:
                bot = await get_member_with_cache(client, chat_id, client.me.id)
                if not is_admin(bot):  # expect: task@abg
                    return await sender("I must be an admin to execute this command.")
            if is_user:
                user = await get_member_with_cache(client, chat_id, message.from_user.id)
                if not is_admin(user):  # expect: task@abg
                    return await sender("You must be an admin to use this command.")
            return await func(client, message, *args, **kwargs)
        return wrapper
    return decorator


# After the fix.
def admins_only_fixed(permissions=None, is_bot=False, is_user=False):
    def decorator(func):
        @functools.wraps(func)
        async def wrapper(client, message, *args, **kwargs):
            sender = message.reply_text
            chat_id = message.chat.id
            if is_bot:
                bot = await get_member_with_cache(client, chat_id, client.me.id)
                if not await is_admin(bot):
                    return await sender("I must be an admin to execute this command.")
            if is_user:
                user = await get_member_with_cache(client, chat_id, message.from_user.id)
                if not await is_admin(user):
                    return await sender("You must be an admin to use this command.")
            return await func(client, message, *args, **kwargs)
        return wrapper
    return decorator
