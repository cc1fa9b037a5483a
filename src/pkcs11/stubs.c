// SPDX-License-Identifier: Apache-2.0
/*
 * The C_* functions this token does not offer. A secure element that
 * only signs with a key it generated has no objects to create or change,
 * nothing to encrypt, and no key to wrap; every such call answers
 * CKR_FUNCTION_NOT_SUPPORTED (CKR_FUNCTION_NOT_PARALLEL for the two
 * legacy parallel-session functions, as PKCS#11 2.40 prescribes), so the
 * function list stays complete.
 */
#include "p11.h"

/* Not initialized comes first, as for every other function. */
static CK_RV
unsupported(void)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
    return unsupported();
}

CK_RV
C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len,
                    CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
    return unsupported();
}

CK_RV
C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
               CK_OBJECT_HANDLE_PTR obj)
{
    return unsupported();
}

CK_RV
C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
             CK_ULONG count, CK_OBJECT_HANDLE_PTR copy)
{
    return unsupported();
}

CK_RV
C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
    return unsupported();
}

CK_RV
C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                    CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
    return unsupported();
}

CK_RV
C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
          CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
          CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech)
{
    return unsupported();
}

CK_RV
C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
         CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len)
{
    return unsupported();
}

CK_RV
C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
                  CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
              CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR sig,
         CK_ULONG sig_len)
{
    return unsupported();
}

CK_RV
C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len)
{
    return unsupported();
}

CK_RV
C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
    return unsupported();
}

CK_RV
C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
                    CK_OBJECT_HANDLE key)
{
    return unsupported();
}

CK_RV
C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len,
                CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                      CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                      CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                    CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len,
                      CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR tmpl,
              CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
    return unsupported();
}

CK_RV
C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
                  CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG pub_count,
                  CK_ATTRIBUTE_PTR priv_tmpl, CK_ULONG priv_count,
                  CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
    return unsupported();
}

CK_RV
C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE wrapping,
          CK_OBJECT_HANDLE key, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    return unsupported();
}

CK_RV
C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
            CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR in, CK_ULONG in_len,
            CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
    return unsupported();
}

CK_RV
C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE base,
            CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
    return unsupported();
}

CK_RV
C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV
C_CancelFunction(CK_SESSION_HANDLE h)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_PARALLEL;
}
